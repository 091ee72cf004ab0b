// Package chatops parses the bot's pull-request commands, decides whether
// the commenter may run them, and routes them to their handlers.
package chatops

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Command names, as typed after the slash.
const (
	Canary   = "canary"
	Promote  = "promote"
	Rollback = "rollback"
	Abort    = "abort"
	Pause    = "pause"
	Resume   = "resume"
	Status   = "status"
	Help     = "help"
	Lock     = "lock"
	Unlock   = "unlock"
)

// Command is one parsed ChatOps command.
type Command struct {
	Name        string
	Models      []string // /canary model..., /promote model, /rollback model
	Environment string   // /lock, /unlock
	Reason      string   // /rollback, /lock
	DryRun      bool     // /canary --dry-run
	Args        []string // the arguments as written, unquoted
	Line        string   // the command line as written
}

// Mutates reports whether the command changes a rollout or a lock (and so
// goes through the governance policies), rather than only reading.
func (c Command) Mutates() bool {
	return c.Name != Status && c.Name != Help
}

// ErrNotCommand means the comment is ordinary discussion.
var ErrNotCommand = errors.New("not a command")

// UnknownCommandError is a slash word that is no command of ours.
type UnknownCommandError struct{ Name string }

func (e *UnknownCommandError) Error() string { return fmt.Sprintf("unknown command /%s", e.Name) }

// UsageError is a known command written wrongly.
type UsageError struct {
	Command string
	Msg     string
}

func (e *UsageError) Error() string {
	return fmt.Sprintf("/%s: %s (usage: %s)", e.Command, e.Msg, usage[e.Command])
}

var usage = map[string]string{
	Canary:   "/canary [--dry-run] [model...]",
	Promote:  "/promote [model]",
	Rollback: `/rollback [model] ["reason"]`,
	Abort:    "/abort",
	Pause:    "/pause",
	Resume:   "/resume",
	Status:   "/status",
	Help:     "/help",
	Lock:     `/lock [environment] ["reason"]`,
	Unlock:   "/unlock [environment]",
}

var (
	commandWord = regexp.MustCompile(`^/([A-Za-z][A-Za-z0-9_-]*)(\s|$)`)
	modelID     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	envName     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
)

// maxLine bounds the command line we look at; a longer one is refused.
const maxLine = 1024

// Parse reads the command on the first line of a comment. It returns
// ErrNotCommand for a comment that does not start with a slash word,
// *UnknownCommandError or *UsageError for a command it cannot run.
func Parse(body string) (Command, error) {
	line, _, _ := strings.Cut(strings.TrimLeft(body, " \t\r\n"), "\n")
	line = strings.TrimSpace(line)
	m := commandWord.FindStringSubmatch(line)
	if m == nil {
		return Command{}, ErrNotCommand
	}
	cmd := Command{Name: strings.ToLower(m[1]), Line: line}
	if _, known := usage[cmd.Name]; !known {
		return cmd, &UnknownCommandError{Name: cmd.Name}
	}
	if len(line) > maxLine {
		return cmd, &UsageError{Command: cmd.Name, Msg: fmt.Sprintf("the command line is longer than %d bytes", maxLine)}
	}
	toks, err := tokenize(line[len(m[0])-len(m[2]):])
	if err != nil {
		return cmd, &UsageError{Command: cmd.Name, Msg: err.Error()}
	}
	for _, t := range toks {
		cmd.Args = append(cmd.Args, t.text)
	}
	if err := cmd.bind(toks); err != nil {
		return cmd, &UsageError{Command: cmd.Name, Msg: err.Error()}
	}
	return cmd, nil
}

// token is one argument; quoted ones are always free text.
type token struct {
	text   string
	quoted bool
}

// tokenize splits on blanks, keeping "double" or 'single' quoted text
// together; a backslash escapes the next character inside double quotes.
func tokenize(s string) ([]token, error) {
	var toks []token
	var cur strings.Builder
	inTok, quoted := false, false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote != 0 && r == '\\' && quote == '"':
			escaped = true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'' || r == '“' || r == '”':
			if r == '“' || r == '”' {
				r = '”'
			}
			quote, inTok, quoted = r, true, true
		case r == ' ' || r == '\t' || r == '\r':
			if inTok {
				toks = append(toks, token{cur.String(), quoted})
				cur.Reset()
				inTok, quoted = false, false
			}
		default:
			cur.WriteRune(r)
			inTok = true
		}
	}
	if quote != 0 {
		return nil, errors.New("a quote is not closed")
	}
	if inTok {
		toks = append(toks, token{cur.String(), quoted})
	}
	return toks, nil
}

// bind gives the tokens their meaning for the command.
func (c *Command) bind(toks []token) error {
	switch c.Name {
	case Canary:
		return c.bindCanary(toks)
	case Promote:
		if len(toks) > 1 {
			return errors.New("name at most one model")
		}
		return c.bindModels(toks)
	case Rollback:
		rest, err := c.bindFirst(toks, modelID, func(s string) { c.Models = []string{s} })
		c.Reason = joinText(rest)
		return err
	case Lock:
		rest, err := c.bindFirst(toks, envName, func(s string) { c.Environment = s })
		c.Reason = joinText(rest)
		return err
	case Unlock:
		if len(toks) > 1 {
			return errors.New("name at most one environment")
		}
		rest, err := c.bindFirst(toks, envName, func(s string) { c.Environment = s })
		if len(rest) > 0 {
			return fmt.Errorf("%q is not an environment name", rest[0].text)
		}
		return err
	case Help:
		return nil // extra words after /help are harmless
	default:
		if len(toks) > 0 {
			return errors.New("takes no arguments")
		}
		return nil
	}
}

func (c *Command) bindCanary(toks []token) error {
	var models []token
	for _, t := range toks {
		switch {
		case !t.quoted && t.text == "--dry-run":
			c.DryRun = true
		case !t.quoted && strings.HasPrefix(t.text, "-"):
			return fmt.Errorf("unknown flag %s", t.text)
		default:
			models = append(models, t)
		}
	}
	return c.bindModels(models)
}

func (c *Command) bindModels(toks []token) error {
	for _, t := range toks {
		if t.quoted || !modelID.MatchString(t.text) {
			return fmt.Errorf("%q is not a model name (a lowercase DNS label)", t.text)
		}
		c.Models = append(c.Models, t.text)
	}
	return nil
}

// bindFirst takes the first token as a name when it is an unquoted valid
// one, and returns the rest as free text.
func (c *Command) bindFirst(toks []token, name *regexp.Regexp, set func(string)) ([]token, error) {
	if len(toks) == 0 || toks[0].quoted || !name.MatchString(toks[0].text) {
		return toks, nil
	}
	set(toks[0].text)
	return toks[1:], nil
}

func joinText(toks []token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.text
	}
	return strings.Join(parts, " ")
}
