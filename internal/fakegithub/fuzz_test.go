package fakegithub

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzServeHTTP sends arbitrary requests: the fake must never panic, must
// answer JSON, and must answer every violation with a 4xx and never a
// success.
func FuzzServeHTTP(f *testing.F) {
	tb := &recordingTB{TB: f}
	s := New(tb)
	f.Cleanup(func() { tb.finish() }) // violations are what this fuzzes; they fail nothing here
	scenario(s)
	tok := s.InstallationToken()
	seeds := []struct{ method, path, body string }{
		{"GET", "/repos/octo/models", ""},
		{"POST", "/repos/octo/models/issues/7/comments", `{"body":"hi"}`},
		{"POST", "/repos/octo/models/deployments", `{"ref":"main","payload":{"a":1},"required_contexts":[]}`},
		{"POST", "/repos/octo/models/deployments/1001/statuses", `{"state":"success"}`},
		{"GET", "/repos/octo/models/contents/models/fraud/model.yaml?ref=main", ""},
		{"PATCH", "/repos/octo/models/issues/comments/1", `{"body":null}`},
		{"GET", "/repos/octo/models/commits/a%2Fb/status?per_page=-1", ""},
	}
	for _, sd := range seeds {
		f.Add(sd.method, sd.path, []byte(sd.body))
	}
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		req, err := http.NewRequest(method, "http://fake"+BasePath+"/"+strings.TrimPrefix(path, "/"), strings.NewReader(string(body)))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("User-Agent", "fuzz")
		req.Header.Set("Authorization", "token "+tok)
		req.Header.Set("Content-Type", "application/json")
		before := len(s.Violations())
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		violated := len(s.Violations()) > before
		if w.Code >= 500 {
			t.Fatalf("%s %s: status %d: %s", method, path, w.Code, w.Body)
		}
		if violated && (w.Code < 400 || w.Code >= 500) {
			t.Fatalf("%s %s: a violation answered %d", method, path, w.Code)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: answer is not JSON: %q", method, path, w.Body)
		}
	})
}
