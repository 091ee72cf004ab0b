package main

deny := 5

warn contains 7 if {
	true
}

warn contains {"message": "no msg key"} if {
	true
}

warn contains "a good message" if {
	true
}

violation contains {"msg": 42} if {
	true
}
