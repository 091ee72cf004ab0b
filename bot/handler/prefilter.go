package handler

import "bytes"

// mayHoldCommand says, without parsing payload, whether a comment body in
// it could start with a slash command; false is a guarantee, true a
// maybe. Every string value under a "body" key is looked at, the issue's
// as well as the comment's, so that the answer needs no JSON structure:
// most comments are discussion, and this spares their full parse.
func mayHoldCommand(payload []byte) bool {
	if bytes.Contains(payload, []byte(`\u`)) {
		return true // an escape could spell a key "body" or a leading slash
	}
	key := []byte(`"body"`)
	found := false
	for rest := payload; ; {
		i := bytes.Index(rest, key)
		if i < 0 {
			return !found // no body at all: let the parser tell what is wrong
		}
		rest = skipSpace(rest[i+len(key):])
		if len(rest) == 0 || rest[0] != ':' {
			continue // the string "body", not a key
		}
		found = true
		rest = skipSpace(rest[1:])
		switch {
		case bytes.HasPrefix(rest, []byte("null")):
		case len(rest) > 0 && rest[0] == '"':
			if startsWithSlash(rest[1:]) {
				return true
			}
		default:
			return true // not a string: let the parser judge
		}
	}
}

// startsWithSlash looks at the start of a JSON string's contents, past the
// blanks chatops.Parse trims, escaped or not; any other escape is a maybe.
func startsWithSlash(s []byte) bool {
	for len(s) > 0 {
		switch s[0] {
		case ' ', '\t', '\r', '\n':
			s = s[1:]
		case '\\':
			if len(s) < 2 || (s[1] != 'n' && s[1] != 'r' && s[1] != 't') {
				return true
			}
			s = s[2:]
		default:
			return s[0] == '/'
		}
	}
	return true
}

func skipSpace(b []byte) []byte {
	return bytes.TrimLeft(b, " \t\r\n")
}
