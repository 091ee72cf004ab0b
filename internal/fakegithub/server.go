package fakegithub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// BasePath is the path under which the fake serves the REST API, as GitHub
// Enterprise Server does; URL ends with it.
const BasePath = "/api/v3"

// apiVersions are the X-GitHub-Api-Version values GitHub accepts.
var apiVersions = map[string]bool{"2022-11-28": true}

// Server is a fake GitHub REST API for tests. Every request is checked against
// GitHub's OpenAPI description; every request GitHub would refuse is recorded
// as a violation and fails the test that created the Server at cleanup.
type Server struct {
	t    T
	spec *spec
	http *httptest.Server

	mu         sync.Mutex
	now        func() time.Time
	nextID     int64
	requests   []Request
	violations []string
	faults     []*faultRule
	chaos      Chaos
	chaosRand  *rand.Rand
	down       bool
	injected   map[Fault]int
	rateReset  time.Time // when the rate-limit window of x-ratelimit-reset ends
	app        appAuth
	tokens     map[string]token
	repos      map[string]*repoState
}

// Request is one request the fake received.
type Request struct {
	Method    string
	Path      string // without BasePath, e.g. /repos/o/r/issues/1/comments
	Query     url.Values
	Header    http.Header
	Body      any    // the decoded JSON body, nil when there was none
	Operation string // GitHub's operationId, e.g. "issues/create-comment"; "" for an unknown route
	Status    int    // the status the fake answered
	Time      time.Time
}

// New starts a fake GitHub that lives until the end of the test. At cleanup it
// reports each violation with t.Errorf.
func New(t T) *Server {
	t.Helper()
	sp, err := loadSpecOnce()
	if err != nil {
		t.Fatalf("fakegithub: %v", err)
	}
	s := &Server{
		t:         t,
		spec:      sp,
		now:       time.Now,
		nextID:    1000,
		rateReset: time.Now().Add(time.Hour),
		tokens:    map[string]token{},
		repos:     map[string]*repoState{},
	}
	s.http = httptest.NewServer(s)
	t.Cleanup(func() {
		s.http.Close()
		for _, v := range s.Violations() {
			t.Errorf("fakegithub: %s", v)
		}
	})
	return s
}

// URL is the API base URL with a trailing slash, e.g.
// "http://127.0.0.1:41234/api/v3/": the value for MODELGATE_GITHUB_URL and for
// go-github's Client.BaseURL or WithEnterpriseURLs. ghinstallation's
// Transport.BaseURL takes it without the trailing slash.
func (s *Server) URL() string { return s.http.URL + BasePath + "/" }

// SetClock replaces the clock that stamps created_at and updated_at times
// (default time.Now). Tokens and JWTs keep to the real clock, as the clients
// that cache them do; ExpireTokens ends tokens early.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Violations returns the requests GitHub would not have accepted, described.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// ServeHTTP validates, records and answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Time: s.clock()}
	rw := &statusWriter{ResponseWriter: w}
	defer func() { s.record(rec, rw.status) }()
	s.setHeaders(w.Header(), rec.Time)
	c, status, msg := s.accept(r, rec)
	if status != 0 {
		s.violate(rec, "%s", msg)
		writeError(rw, status, msg)
		return
	}
	if s.isDown() {
		Unavailable.write(rw)
		return
	}
	if status, msg := s.authorize(c); status != 0 {
		writeError(rw, status, msg)
		return
	}
	f := s.takeFault(r.Method, rec.Path)
	if f == nil {
		f = s.drawChaos(r.Method)
	}
	switch {
	case f == nil:
		s.handle(rw, rec, c)
	case *f == LostAnswer:
		s.loseAnswer(rw, rec, c)
	default:
		f.write(rw)
	}
}

// setHeaders sets the headers GitHub puts on every answer.
func (s *Server) setHeaders(h http.Header, now time.Time) {
	s.mu.Lock()
	setRateHeaders(h, len(s.requests)+1, s.rateReset)
	s.mu.Unlock()
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Request-Id", fmt.Sprintf("FAKE:%X", now.UnixNano()))
}

// accept reads a request into rec and validates it. A non-zero status and
// a message say that GitHub would refuse it.
func (s *Server) accept(r *http.Request, rec *Request) (*call, int, string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, http.StatusBadRequest, "read body: " + err.Error()
	}
	p, ok := strings.CutPrefix(r.URL.EscapedPath(), BasePath)
	if !ok || p == "" {
		return nil, http.StatusNotFound, "Not Found (the path is not under " + BasePath + ")"
	}
	rec.Path, _ = url.PathUnescape(p)
	if len(body) > 0 {
		if err := json.Unmarshal(body, &rec.Body); err != nil {
			return nil, http.StatusBadRequest, "Problems parsing JSON: " + err.Error()
		}
	}
	c, status, msg := s.validate(r, p, body)
	if c != nil {
		rec.Operation, c.body = c.op, rec.Body
	}
	return c, status, msg
}

// record appends a finished request.
func (s *Server) record(rec *Request, status int) {
	if status == 0 {
		status = http.StatusOK
	}
	rec.Status = status
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, *rec)
}

// violate records that GitHub would not accept rec.
func (s *Server) violate(rec *Request, format string, args ...any) {
	msg := fmt.Sprintf("%s %s: %s", rec.Method, rec.Path, fmt.Sprintf(format, args...))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = append(s.violations, msg)
}

func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now().UTC().Truncate(time.Second)
}

// call is a validated request on its way to a handler.
type call struct {
	op     string            // operationId
	route  string            // "METHOD /path/{template}"
	params map[string]string // path parameters, unescaped
	query  url.Values
	body   any
	auth   string // the token, without its scheme
	self   string // the request's absolute URL without its query
}

// validate checks r (whose path under BasePath, still escaped, is p)
// against the OpenAPI description. It returns a non-zero status and a
// message when GitHub would refuse the request.
func (s *Server) validate(r *http.Request, p string, body []byte) (*call, int, string) {
	if status, msg := checkHeaders(r.Header); status != 0 {
		return nil, status, msg
	}
	vr := asGitHubRequest(r, p, body)
	route, params, err := s.spec.router.FindRoute(vr)
	if errors.Is(err, routers.ErrMethodNotAllowed) {
		return nil, http.StatusNotFound, "Not Found (no such operation in GitHub's API: method not allowed)"
	}
	if err != nil {
		return nil, http.StatusNotFound, "Not Found (no such operation in GitHub's API)"
	}
	c := &call{
		op:     route.Operation.OperationID,
		route:  route.Method + " " + route.Path,
		params: map[string]string{},
		query:  r.URL.Query(),
		auth:   bearer(r.Header.Get("Authorization")),
		self:   s.http.URL + r.URL.EscapedPath(),
	}
	for k, v := range params {
		c.params[k], _ = url.PathUnescape(v)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}
	opts.WithCustomSchemaErrorFunc(schemaMessage)
	in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		return c, http.StatusUnprocessableEntity, "Invalid request: " + oneLine(err.Error())
	}
	return c, 0, ""
}

// checkHeaders checks the headers GitHub requires of every request.
func checkHeaders(h http.Header) (int, string) {
	if h.Get("User-Agent") == "" {
		return http.StatusForbidden, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header"
	}
	if v := h.Get("X-GitHub-Api-Version"); v != "" && !apiVersions[v] {
		return http.StatusBadRequest, fmt.Sprintf("API version %q is not supported", v)
	}
	return 0, ""
}

// asGitHubRequest copies r as a request to api.github.com, the server of
// the description, with path p (under BasePath, escaped) and body.
func asGitHubRequest(r *http.Request, p string, body []byte) *http.Request {
	vr := r.Clone(r.Context())
	vr.URL = &url.URL{Scheme: "https", Host: "api.github.com", RawQuery: r.URL.RawQuery, RawPath: routablePath(p)}
	vr.URL.Path, _ = url.PathUnescape(vr.URL.RawPath)
	vr.Host = vr.URL.Host
	if string(bytes.TrimSpace(body)) == "null" {
		// GitHub takes a null body as none (ghinstallation sends one);
		// the description's schemas do not say so.
		body = nil
	}
	vr.Body = io.NopCloser(bytes.NewReader(body))
	vr.ContentLength = int64(len(body))
	return vr
}

// routablePath escapes the slashes of a contents path, which GitHub takes
// whole in {path} but a router would split.
func routablePath(p string) string {
	parts := strings.SplitN(p, "/", 6) // "", repos, owner, repo, contents, path
	if len(parts) == 6 && parts[1] == "repos" && parts[4] == "contents" {
		parts[5] = strings.ReplaceAll(parts[5], "/", "%2F")
		return strings.Join(parts, "/")
	}
	return p
}

// schemaMessage says where a value breaks its schema and what it was,
// without kin-openapi's dump of the whole schema.
func schemaMessage(err *openapi3.SchemaError) string {
	reason := err.Reason
	if reason == "" {
		reason = "does not match " + err.SchemaField
	}
	got, _ := json.Marshal(err.Value)
	if len(got) > 80 {
		got = append(got[:77], "..."...)
	}
	return fmt.Sprintf("at /%s: %s (got %s)", strings.Join(err.JSONPointer(), "/"), reason, got)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// bearer returns the credential of an Authorization header ("token X" or
// "Bearer X").
func bearer(h string) string {
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || (!strings.EqualFold(scheme, "token") && !strings.EqualFold(scheme, "bearer")) {
		return ""
	}
	return strings.TrimSpace(cred)
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// docsURL is the documentation_url GitHub puts in its error bodies.
const docsURL = "https://docs.github.com/rest"

// writeError answers with a GitHub-style error body.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{
		"message":           msg,
		"documentation_url": docsURL,
		"status":            fmt.Sprint(status),
	})
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The client went away; nothing to answer.
		return
	}
}

// T is what the fake needs of the code that runs it: *testing.T and
// *testing.B have it, and so has bot testdrive, which runs the fake outside
// a test. Fatalf must not return.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}
