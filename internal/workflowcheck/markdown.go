package workflowcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Block is a workflow written out in a Markdown file.
type Block struct {
	// Line is the line of the block's opening fence.
	Line int
	// Name is the file the workflow's first line names, for example
	// .github/workflows/modelgate.yml.
	Name string
	Text string
}

var workflowHeader = regexp.MustCompile(`^# (\.github/workflows/[A-Za-z0-9._-]+\.ya?ml)\b`)

// partOfWorkflow matches the keys that only a workflow has; a YAML block
// with them that does not name its file is a fragment, which no linter
// can read whole.
var partOfWorkflow = regexp.MustCompile(`(?m)^\s*(-\s+)?(jobs|steps|uses|runs-on):`)

// MarkdownWorkflows returns the workflows in the ```yaml blocks of a
// Markdown file: each starts with a comment naming its file
// (`# .github/workflows/NAME.yml`). A YAML block that holds workflow keys
// without that header is an error: readers copy it, so it must be whole.
func MarkdownWorkflows(markdown []byte) ([]Block, error) {
	var blocks []Block
	var problems []string
	sc := bufio.NewScanner(bytes.NewReader(markdown))
	line, start := 0, 0
	var text *strings.Builder
	for sc.Scan() {
		line++
		l := sc.Text()
		switch {
		case text == nil && (l == "```yaml" || l == "```yml"):
			text, start = &strings.Builder{}, line
		case text != nil && strings.HasPrefix(l, "```"):
			body := text.String()
			first, _, _ := strings.Cut(body, "\n")
			if m := workflowHeader.FindStringSubmatch(first); m != nil {
				blocks = append(blocks, Block{Line: start, Name: m[1], Text: body})
			} else if partOfWorkflow.MatchString(body) {
				problems = append(problems, fmt.Sprintf("line %d: a YAML block with workflow keys must be a whole workflow whose first line is `# .github/workflows/NAME.yml`", start))
			}
			text = nil
		case text != nil:
			text.WriteString(l + "\n")
		}
	}
	if text != nil {
		problems = append(problems, fmt.Sprintf("line %d: the YAML block is not closed", start))
	}
	if len(problems) > 0 {
		return blocks, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return blocks, nil
}
