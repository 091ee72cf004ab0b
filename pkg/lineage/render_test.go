package lineage

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/golden"

	"github.com/modelgate/modelgate/pkg/manifest"
)

func sampleGraph(t *testing.T) *Graph {
	return Build([]*manifest.Manifest{
		model(t, "base@1.0.0", "bert-base-uncased"),
		model(t, "base@1.1.0", "base@1.0.0"),
		model(t, "tuned@2.0.0", "base@1.1.0"),
		model(t, "other@0.1.0"),
	})
}

func TestRender(t *testing.T) {
	g := sampleGraph(t)
	view := View{Status: map[string]Status{"base@1.1.0": StatusChanged, "tuned@2.0.0": StatusError, "base@1.0.0": StatusOK}}
	for _, tt := range []struct {
		name string
		draw func(*bytes.Buffer, View) error
		view View
	}{
		{"all.mmd", func(b *bytes.Buffer, v View) error { return g.Mermaid(b, v) }, view},
		{"all.dot", func(b *bytes.Buffer, v View) error { return g.DOT(b, v) }, view},
		{"only-tuned.mmd", func(b *bytes.Buffer, v View) error { return g.Mermaid(b, v) }, View{Only: []string{"tuned@2.0.0"}, Status: view.Status}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, tt.draw(&b, tt.view))
			golden.Assert(t, tt.name, b.String())
		})
	}
}

func TestRenderEscapesHostileNames(t *testing.T) {
	hostile := "x\"]\nclick m0 href \"javascript:alert(1)\"\n%%{init: {}}%%<img src=x onerror=alert(1)>"
	quoted, err := json.Marshal(hostile)
	require.NoError(t, err)
	g := Build([]*manifest.Manifest{model(t, "a@1.0.0", string(quoted))})
	require.Equal(t, []string{hostile}, g.Node("a@1.0.0").External)
	var b bytes.Buffer
	require.NoError(t, g.Mermaid(&b, View{}))
	out := b.String()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		assert.Regexp(t, `^  (m\d+\[|x\d+\(|m\d+ -->|classDef |class )`, line, "every line is a statement modelgate wrote")
	}
	assert.NotContains(t, out, "<img")
	assert.NotContains(t, out, "click m0 href \"")
	b.Reset()
	require.NoError(t, g.DOT(&b, View{}))
	assert.Contains(t, b.String(), `\"]\nclick m0 href \"javascript`)
	assert.Equal(t, 1, strings.Count(b.String(), "digraph"))
}
