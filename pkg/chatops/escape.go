package chatops

import "github.com/modelgate/modelgate/pkg/markdown"

// escapeText makes text from a PR or a commenter safe to print inside a
// Markdown reply, on one line: no formatting, HTML, links or mentions.
func escapeText(s string) string {
	return markdown.Text(s)
}
