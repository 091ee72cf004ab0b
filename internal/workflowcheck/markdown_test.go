package workflowcheck

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMarkdownWorkflows(t *testing.T) {
	md := "# Title\n\n```yaml\n# .github/workflows/a.yml\non: push\njobs: {}\n```\n\n```yaml\nmanifests: x\n```\n\n```sh\njobs: not yaml\n```\n"
	blocks, err := MarkdownWorkflows([]byte(md))
	require.NoError(t, err)
	assert.Equal(t, []Block{{Line: 3, Name: ".github/workflows/a.yml", Text: "# .github/workflows/a.yml\non: push\njobs: {}\n"}}, blocks)
}

func TestMarkdownWorkflowFragmentsAreRefused(t *testing.T) {
	tests := []struct{ name, md, message string }{
		{"steps alone", "```yaml\n# after the modelgate step:\n      - uses: actions/upload-artifact@v4\n```\n", "line 1: a YAML block with workflow keys must be a whole workflow"},
		{"a workflow without its file name", "text\n```yml\non: push\njobs:\n  a: {}\n```\n", "line 2: a YAML block with workflow keys"},
		{"an open block", "```yaml\n# .github/workflows/a.yml\non: push\n", "line 1: the YAML block is not closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MarkdownWorkflows([]byte(tt.md))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}
