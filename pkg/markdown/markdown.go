// Package markdown writes text that came from a repository or a pull
// request into GitHub-flavoured Markdown as inert data: no markup, HTML,
// links, mentions or line breaks can be smuggled in through it.
package markdown

import (
	"strings"
	"unicode/utf8"
)

// MaxText is how many characters of one piece of text are shown; the rest
// is cut with an ellipsis, so that one 100 KB line cannot fill a report.
const MaxText = 1000

// Text escapes s for use inside a paragraph or a table cell: Markdown and
// HTML punctuation is backslash-escaped or turned into entities, line breaks
// become spaces, mentions (@user, @org/team) and issue references (#12) are
// broken with an invisible joiner so that nobody is notified, and bare URLs
// are kept from becoming links.
func Text(s string) string {
	s = Truncate(s, MaxText)
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			// other control characters are dropped
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '|':
			b.WriteString(`\|`)
		case r == '@' || r == '#':
			b.WriteRune(r)
			b.WriteString("\u2060") // word joiner: no mention, no reference
		case r == ':':
			b.WriteString("&#58;") // no autolinked scheme (https:, javascript:)
		case strings.ContainsRune("\\`*_[]{}()!~", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Code puts s in an inline code span that s itself cannot close. A pipe is
// escaped, as GitHub requires for code spans in table cells, where Code is
// mostly used.
func Code(s string) string {
	// A code span shows "<!--" as it is, but the bot finds its own comments
	// by the hidden markers they hold: a word joiner keeps text from
	// forging one, and shows nothing.
	s = strings.NewReplacer("\n", " ", "\r", " ", "|", `\|`, "<!--", "<\u2060!--").Replace(Truncate(s, MaxText))
	ticks := "`"
	for strings.Contains(s, ticks) {
		ticks += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return ticks + pad + s + pad + ticks
}

// Line fits s to a field GitHub shows as plain text, such as a deployment's
// or a deployment status's description: one line, without control
// characters, cut to at most n characters. Plain text needs no escaping.
func Line(s string, n int) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return Truncate(b.String(), n)
}

// Truncate cuts s to at most n characters, marking the cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	return s[:i] + "…"
}
