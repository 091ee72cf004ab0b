// Package plain makes text from a repository safe to print on a terminal
// or in a CI log: control characters are shown escaped instead of acting.
package plain

import (
	"fmt"
	"strings"
)

// Text shows control characters (escape sequences, carriage returns, line
// breaks) as \xNN, so that text a pull request controls can neither move
// the cursor, recolour the terminal nor start a line of its own (where a CI
// log would read a workflow command).
func Text(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Lines is Text for multi-line output: line breaks stay, every other
// control character is escaped.
func Lines(s string) string {
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		parts[i] = Text(p)
	}
	return strings.Join(parts, "\n")
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
