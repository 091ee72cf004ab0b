package main

deny contains msg if {
	resp := http.send({"method": "GET", "url": "http://example.com"})
	msg := sprintf("%v", [resp.status_code])
}
