package metrics

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// safeValue is what a value may hold once Render has accepted it; it is
// written here apart from the checks in template.go, to judge them.
var safeValue = regexp.MustCompile(`^[0-9A-Za-z.+-]+$`)

// FuzzRender feeds the plan's real templates arbitrary model names and
// versions: each is refused, or lands verbatim inside its string literals
// and nowhere else.
func FuzzRender(f *testing.F) {
	f.Add("fraud-detector", "3.2.0")
	f.Add("a", "1.0.0-rc.1+build.5")
	f.Add("a", `1"}[1m]) or vector(1) or x{a="`)
	f.Add(`a"} or vector(1) #`, "1.0.0")
	f.Add("a\\", "1.0.0\n")
	texts := []string{latencyP99, errorRate}
	var templates []*Template
	for _, text := range texts {
		tmpl, err := ParseTemplate(text)
		if err != nil {
			f.Fatal(err)
		}
		templates = append(templates, tmpl)
	}
	f.Fuzz(func(t *testing.T, model, version string) {
		for i, tmpl := range templates {
			got, err := tmpl.Render(model, version)
			if err != nil {
				continue
			}
			if !safeValue.MatchString(model) || !safeValue.MatchString(version) {
				t.Fatalf("accepted model %q, version %q", model, version)
			}
			want := strings.NewReplacer("{{.Model}}", model, "{{.Version}}", version).Replace(texts[i])
			if got != want {
				t.Fatalf("rendered %q, want %q", got, want)
			}
		}
	})
}

// FuzzEscapeString checks the escaping against Go's own reading of a
// double-quoted string, which is PromQL's.
func FuzzEscapeString(f *testing.F) {
	for _, s := range []string{"", "1.0.0", `"`, `\`, "\n", `"} or vector(1)`, "\x00é\x7f", "\\\"", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := escapeString(s)
		if !utf8.ValidString(s) {
			if err == nil {
				t.Fatalf("escaped invalid UTF-8 %q", s)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		quoted := `"` + e + `"`
		prefix, err := strconv.QuotedPrefix(quoted + `} or vector(1)`)
		if err != nil || prefix != quoted {
			t.Fatalf("%q does not read as one string literal (%q, %v)", quoted, prefix, err)
		}
		if got, _ := strconv.Unquote(quoted); got != s {
			t.Fatalf("%q reads as %q, want %q", quoted, got, s)
		}
		re, err := regexp.Compile(`^(?:` + regexp.QuoteMeta(s) + `)$`)
		if err != nil || !re.MatchString(s) {
			t.Fatalf("regex for %q: %v", s, err)
		}
	})
}

// FuzzTemplate feeds arbitrary templates and unchecked values to the
// escaping: whatever the value, the rendered query has the same code outside
// string literals as with an empty value.
func FuzzTemplate(f *testing.F) {
	f.Add(latencyP99, `1"}[1m]) or vector(1) or x{a="`)
	f.Add(`up{a="\"{{.Version}}"} or up{b=~"{{.Model}}"}`, "\\\"\n")
	f.Add(`up{a="{{.Version}}`, `"`)
	f.Fuzz(func(t *testing.T, text, value string) {
		if strings.ContainsAny(text, "'`#") {
			t.Skip("the reference reader below knows only double-quoted strings")
		}
		tmpl, err := ParseTemplate(text)
		if err != nil {
			return
		}
		empty, err := tmpl.render(map[string]string{"Model": "", "Version": ""})
		if err != nil {
			t.Fatal(err)
		}
		wantCode, ok := codeOutsideStrings(empty)
		if !ok {
			t.Skip("not PromQL even with empty values")
		}
		got, err := tmpl.render(map[string]string{"Model": value, "Version": value})
		if err != nil {
			if utf8.ValidString(value) {
				t.Fatal(err)
			}
			return
		}
		code, ok := codeOutsideStrings(got)
		if !ok || code != wantCode {
			t.Fatalf("value %q changed the query's code: %q became %q (%q)", value, wantCode, code, got)
		}
	})
}

// codeOutsideStrings returns q with each double-quoted string literal
// replaced by "", reading the literals with strconv; false if one does not read.
func codeOutsideStrings(q string) (string, bool) {
	var b strings.Builder
	for {
		i := strings.IndexByte(q, '"')
		if i < 0 {
			b.WriteString(q)
			return b.String(), true
		}
		b.WriteString(q[:i])
		lit, err := strconv.QuotedPrefix(q[i:])
		if err != nil {
			return "", false
		}
		b.WriteString(`""`)
		q = q[i+len(lit):]
	}
}
