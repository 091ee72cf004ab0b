package markdown

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "fraud detector 3", "fraud detector 3"},
		{"html", `</details><img src=x onerror=alert(1)>`, `&lt;/details&gt;&lt;img src=x onerror=alert\(1\)&gt;`},
		{"mention", "ping @org/team and @alice", "ping @\u2060org/team and @\u2060alice"},
		{"reference", "fixes #12", "fixes #\u206012"},
		{"table and newline", "a|b\nc", `a\|b c`},
		{"link", "[x](https://evil)", `\[x\]\(https&#58;//evil\)`},
		{"workflow command", "::error::x", "&#58;&#58;error&#58;&#58;x"},
		{"emphasis", "*a* _b_ `c`", "\\*a\\* \\_b\\_ \\`c\\`"},
		{"control", "a\x1b[31mb", "a\\[31mb"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Text(tt.in), tt.name)
	}
}

func TestCode(t *testing.T) {
	assert.Equal(t, "`a`", Code("a"))
	assert.Equal(t, "``a`b``", Code("a`b"))
	assert.Equal(t, "`` `a ``", Code("`a"))
	assert.Equal(t, "```` ```x ````", Code("```x"))
	assert.Equal(t, "`a b`", Code("a\nb"))
	assert.Equal(t, "`a\\|b`", Code("a|b"))
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "abc", Truncate("abc", 3))
	assert.Equal(t, "ab…", Truncate("abc", 2))
	assert.Equal(t, "éé…", Truncate("ééé", 2))
	long := strings.Repeat("x", 100_000)
	assert.Len(t, []rune(Text(long)), MaxText+1)
}

func TestCodeForgesNoMarker(t *testing.T) {
	got := Code("<!-- modelgate:rollout=1:status -->")
	assert.NotContains(t, got, "<!--")
	assert.Equal(t, "`<\u2060!-- modelgate:rollout=1:status -->`", got)
}

func TestLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"two\nlines\r\tand a tab", "two lines  and a tab"},
		{"bell\a and nul\x00", "bell and nul"},
		{"<b>kept</b> as text", "<b>kept</b> as text"},
		{strings.Repeat("é", 150), strings.Repeat("é", 139) + "…"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Line(tt.in, 139), tt.in)
	}
}
