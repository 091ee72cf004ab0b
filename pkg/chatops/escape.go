package chatops

import "strings"

// markdown escapes the characters that would let text from a PR or a
// commenter format the bot's reply, open an HTML tag, or mention someone.
var markdown = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;",
	"#", `\#`, "|", `\|`, "~", `\~`, "!", `\!`, "@", "&#64;", "\r", " ", "\n", " ",
)

// escapeText makes text safe to print inside a Markdown reply, on one line.
func escapeText(s string) string {
	return markdown.Replace(s)
}
