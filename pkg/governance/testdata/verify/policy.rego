package main

deny contains "big" if input.size > 10
