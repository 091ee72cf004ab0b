// Package hostile holds pull-request text written to break out of the
// Markdown the bot writes, and the check that it stayed inert: rendered as
// GitHub renders comments, it made no HTML, link, mention, hidden marker,
// code span, table cell or block of its own.
package hostile

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// Text is hostile text on one line: live HTML, a team mention and an
// issue reference, a link and a bare URL, a forged hidden marker of the
// bot, a code span, a table cell, emphasis.
const Text = "<img src=x onerror=alert(1)> @org/team #999 [link](http://evil.example) http://evil.example/bare " +
	"<!-- modelgate:rollout=1:status --> `rm -rf` | cell | **bold**"

// Lines is Text followed by lines that would start blocks of their own:
// a task list item and a heading.
const Lines = Text + "\n- [x] forged item\n# forged heading\n"

var gfm = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))

var (
	codeSpan = regexp.MustCompile(`(?s)<code>.*?</code>`)
	row      = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cell     = regexp.MustCompile(`<t[hd][ >]`)
	table    = regexp.MustCompile(`(?s)<table>.*?</table>`)
)

// AssertInert fails t when md, Markdown the bot wrote with Text or Lines
// in it, lets any of it act: markers is how many hidden
// "<!-- modelgate:" markers the bot wrote there itself.
func AssertInert(t testing.TB, md string, markers int) {
	t.Helper()
	var buf bytes.Buffer
	if err := gfm.Convert([]byte(md), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	out := buf.String()
	prose := codeSpan.ReplaceAllString(out, "")
	for what, bad := range map[string]string{
		"live HTML":          "<img",
		"a link":             `href="http://evil`,
		"a code span":        "<code>rm -rf</code>",
		"emphasis":           "<strong>bold</strong>",
		"a task list item":   "<input",
		"a heading":          "<h1>forged",
		"a list item":        "<li>forged",
		"a team mention":     "@org/team",
		"an issue reference": "#999",
	} {
		if strings.Contains(prose, bad) {
			t.Errorf("the text made %s (%q) in:\n%s\nrendered:\n%s", what, bad, md, out)
		}
	}
	if n := strings.Count(md, "<!-- modelgate:"); n != markers {
		t.Errorf("%d hidden modelgate markers, want the bot's own %d, in:\n%s", n, markers, md)
	}
	for _, tb := range table.FindAllString(out, -1) {
		rows := row.FindAllStringSubmatch(tb, -1)
		if len(rows) == 0 {
			continue
		}
		want := len(cell.FindAllString(rows[0][1], -1))
		for _, r := range rows[1:] {
			if got := len(cell.FindAllString(r[1], -1)); got != want {
				t.Errorf("a table row has %d cells, its header %d: the text split a cell, in:\n%s", got, want, md)
			}
		}
	}
}

// AssertPlain fails t when s, a field GitHub shows as plain text (a
// deployment's or a deployment status's description), holds a line break
// or a control character, or is longer than max characters.
func AssertPlain(t testing.TB, s string, max int) {
	t.Helper()
	if n := len([]rune(s)); n > max {
		t.Errorf("%d characters, over %d: %q", n, max, s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			t.Errorf("control character %U in %q", r, s)
		}
	}
}

// Shown reports whether md shows the hostile text at all (escaped or in a
// code span): a test that never gets it there proves nothing.
func Shown(md string) bool {
	return strings.Contains(md, "onerror=alert")
}
