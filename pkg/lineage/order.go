package lineage

import (
	"cmp"
	"strings"

	"golang.org/x/mod/semver"
)

// CompareIDs orders model versions as people read them: by name in
// natural order (m1, m2, m10: runs of digits compare as numbers), then by
// semantic version (1.2.0 before 1.10.0).
func CompareIDs(a, b string) int {
	na, va, _ := strings.Cut(a, "@")
	nb, vb, _ := strings.Cut(b, "@")
	if c := Natural(na, nb); c != 0 {
		return c
	}
	if c := semver.Compare("v"+va, "v"+vb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// Natural compares two strings with their runs of digits compared as
// numbers: "m2" < "m10". Equal numbers with other leading zeros, and
// otherwise equal strings, fall back to byte order, so that the order is
// total.
func Natural(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			ei, ej := digitsEnd(a, i), digitsEnd(b, j)
			if c := compareNumbers(a[i:ei], b[j:ej]); c != 0 {
				return c
			}
			i, j = ei, ej
			continue
		}
		if a[i] != b[j] {
			return cmp.Compare(a[i], b[j])
		}
		i, j = i+1, j+1
	}
	if c := cmp.Compare(len(a)-i, len(b)-j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// compareNumbers compares two runs of decimal digits of any length.
func compareNumbers(x, y string) int {
	x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
	if c := cmp.Compare(len(x), len(y)); c != 0 {
		return c
	}
	return strings.Compare(x, y)
}

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
