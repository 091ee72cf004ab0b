package readme

import (
	"regexp"
	"strings"
)

// Flag is one flag as the flag package prints it with -h.
type Flag struct {
	Name, Type, Usage, Default string
}

var (
	flagLine    = regexp.MustCompile(`^  -([A-Za-z0-9-]+)(?: (\S+))?$`)
	defaultPart = regexp.MustCompile(` \(default (.*)\)$`)
)

// ParseFlagHelp reads the flags of a command's -h output.
func ParseFlagHelp(help string) []Flag {
	var flags []Flag
	for _, l := range strings.Split(help, "\n") {
		if m := flagLine.FindStringSubmatch(l); m != nil {
			flags = append(flags, Flag{Name: m[1], Type: m[2]})
			continue
		}
		if usage, ok := strings.CutPrefix(l, "    \t"); ok && len(flags) > 0 {
			f := &flags[len(flags)-1]
			if f.Usage != "" {
				f.Usage += " "
			}
			f.Usage += usage
		}
	}
	for i := range flags {
		if m := defaultPart.FindStringSubmatch(flags[i].Usage); m != nil {
			flags[i].Usage = strings.TrimSuffix(flags[i].Usage, m[0])
			flags[i].Default = strings.Trim(m[1], `"`)
		}
	}
	return flags
}

// Table is a Markdown table.
type Table struct {
	Header []string
	Rows   [][]string
}

// Tables returns the tables of a Markdown file, with cells trimmed.
func Tables(markdown string) []Table {
	var out []Table
	var cur *Table
	for _, l := range strings.Split(markdown, "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "|") {
			if cur != nil {
				out = append(out, *cur)
				cur = nil
			}
			continue
		}
		cells := splitRow(l)
		switch {
		case cur == nil:
			cur = &Table{Header: cells}
		case isRule(cells):
		default:
			cur.Rows = append(cur.Rows, cells)
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// splitRow splits a table row at the pipes that are not escaped or in code.
func splitRow(row string) []string {
	row = strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
	var cells []string
	var cell strings.Builder
	code := false
	for i := 0; i < len(row); i++ {
		switch c := row[i]; {
		case c == '`':
			code = !code
			cell.WriteByte(c)
		case c == '\\' && i+1 < len(row) && row[i+1] == '|':
			cell.WriteByte('|')
			i++
		case c == '|' && !code:
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(c)
		}
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

func isRule(cells []string) bool {
	for _, c := range cells {
		if strings.Trim(c, ":-") != "" {
			return false
		}
	}
	return true
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// CodeSpans returns the `code` spans of a cell.
func CodeSpans(cell string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

// FindTable returns the first table whose header starts with these cells.
func FindTable(tables []Table, header ...string) (Table, bool) {
	for _, t := range tables {
		if len(t.Header) >= len(header) && equalFold(t.Header[:len(header)], header) {
			return t, true
		}
	}
	return Table{}, false
}

func equalFold(a, b []string) bool {
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}
