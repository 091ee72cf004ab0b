// Package readme keeps the README true when tried: its examples are
// regenerated from the code between markers
//
//	<!-- generated: NAME -->
//	…
//	<!-- end: NAME -->
//
// and its tables are held to action.yml and to the commands' flag sets.
package readme

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

// Section is the generated text between a pair of markers.
type Section struct {
	Name   string
	Indent string // the markers' indentation, which the text keeps
	Text   string // the lines between the markers, each ending in \n
}

var (
	startMarker = regexp.MustCompile(`^(\s*)<!-- generated: ([a-z0-9-]+) -->$`)
	endMarker   = regexp.MustCompile(`^\s*<!-- end: ([a-z0-9-]+) -->$`)
)

// Sections returns the generated sections of a Markdown file in order.
func Sections(markdown string) ([]Section, error) {
	var out []Section
	var cur *Section
	sc := bufio.NewScanner(strings.NewReader(markdown))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		if m := startMarker.FindStringSubmatch(l); m != nil {
			if cur != nil {
				return nil, fmt.Errorf("line %d: section %s opens inside %s", line, m[2], cur.Name)
			}
			cur = &Section{Name: m[2], Indent: m[1]}
			continue
		}
		if m := endMarker.FindStringSubmatch(l); m != nil {
			if cur == nil || m[1] != cur.Name {
				return nil, fmt.Errorf("line %d: end of %s without its start", line, m[1])
			}
			out = append(out, *cur)
			cur = nil
			continue
		}
		if cur != nil {
			cur.Text += l + "\n"
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("section %s is not closed", cur.Name)
	}
	return out, sc.Err()
}

// Replace returns markdown with each section's text replaced by the text
// texts gives for its name.
func Replace(markdown string, texts map[string]string) string {
	var b strings.Builder
	skipping := false
	for _, l := range strings.SplitAfter(markdown, "\n") {
		trimmed := strings.TrimSuffix(l, "\n")
		if m := startMarker.FindStringSubmatch(trimmed); m != nil {
			b.WriteString(l)
			if text, ok := texts[m[2]]; ok {
				b.WriteString(text)
				skipping = true
			}
			continue
		}
		if endMarker.MatchString(trimmed) {
			skipping = false
		}
		if !skipping {
			b.WriteString(l)
		}
	}
	return b.String()
}

// Indent prefixes every line of text with indent (empty lines get the
// prefix trimmed of trailing spaces).
func Indent(text, indent string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if l == "" {
			continue
		}
		if strings.TrimSpace(l) == "" {
			b.WriteString(strings.TrimRight(indent, " ") + "\n")
			continue
		}
		b.WriteString(indent + l)
	}
	return b.String()
}

// Quote makes text a Markdown block quote, indented by indent.
func Quote(text, indent string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(strings.TrimRight(text, "\n")+"\n", "\n") {
		if l == "" {
			continue
		}
		if l == "\n" {
			b.WriteString(indent + ">\n")
			continue
		}
		b.WriteString(indent + "> " + l)
	}
	return b.String()
}
