package history

import (
	"bytes"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/golden"
	"github.com/modelgate/modelgate/pkg/store"
)

func TestMarkdownGolden(t *testing.T) {
	golden.Assert(t, "history.md", Markdown(Build(fraud(), Options{Now: asOf})))
	golden.Assert(t, "history-limit.md", Markdown(Build(fraud(), Options{Limit: 2, Now: asOf})))
}

func TestSummaryGolden(t *testing.T) {
	golden.Assert(t, "summary.md", Summary(Build(fraud(), Options{Now: asOf}), 2))
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, Build(fraud(), Options{Now: asOf})))
	golden.Assert(t, "history.json", b.String())
}

func TestJSONMatchesItsSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema()))
	require.NoError(t, err)
	require.NoError(t, c.AddResource("history.schema.json", doc))
	sch, err := c.Compile("history.schema.json")
	require.NoError(t, err)
	for name, h := range map[string]History{
		"fraud":   Build(fraud(), Options{Now: asOf}),
		"limited": Build(fraud(), Options{Limit: 1, Now: asOf}),
		"empty":   Build(Records{}, Options{Now: asOf}),
		"hostile": Build(hostile(), Options{Now: asOf}),
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, WriteJSON(&b, h))
			v, err := jsonschema.UnmarshalJSON(&b)
			require.NoError(t, err)
			assert.NoError(t, sch.Validate(v))
		})
	}
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, Build(Records{}, Options{Now: asOf})))
	assert.JSONEq(t, `{"version":1,"as_of":"2026-11-25T12:00:00Z","groups":[],"truncated":false}`, b.String())
}

// hostileText carries every kind of injection a pull request could try.
const hostileText = "x|y</details><img src=x onerror=alert(1)> @org/team #1 [x](javascript:alert(1))\n| z |"

func hostile() Records {
	f := newFixture()
	r := f.rollout(store.Rollout{ID: 1, Repo: "octo/models", PR: 1, Model: hostileText, Version: hostileText,
		BaselineVersion: hostileText, Environment: hostileText, StartedBy: hostileText}, day(1, 8, 0))
	f.end(r, "promoted", day(1, 9, 0), hostileText, hostileText)
	return f.rec
}

func TestRenderingsEscapeStoredText(t *testing.T) {
	h := Build(hostile(), Options{Now: asOf})
	for name, out := range map[string]string{"markdown": Markdown(h), "summary": Summary(h, 0)} {
		t.Run(name, func(t *testing.T) {
			for _, bad := range []string{"<img", "</details>", "@org", "#1 ", "[x](", "\n| z |"} {
				assert.NotContains(t, out, bad)
			}
		})
	}
}

// cells counts the unescaped pipes of a Markdown table row.
func cells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

func FuzzMarkdownKeepsTextInItsCells(f *testing.F) {
	f.Add("fraud", "3.2.0", "alice", judgeFail)
	f.Add(hostileText, "a\\|b", "`x`", "\\")
	f.Fuzz(func(t *testing.T, model, version, actor, reason string) {
		fx := newFixture()
		r := fx.rollout(store.Rollout{ID: 1, Repo: "o/r", PR: 1, Model: model, Version: version, Environment: model,
			StartedBy: actor, BaselineVersion: version}, day(1, 8, 0))
		fx.end(r, "promoted", day(1, 9, 0), actor, reason)
		h := Build(fx.rec, Options{})
		out := Markdown(h)
		lines := strings.Split(out, "\n")
		want := []int{0, 0, 0, 0, 11, 11, 11, 0, 0, 0, 6, 6, 6, 0}
		require.Len(t, lines, len(want), out)
		for i, line := range lines {
			assert.Equal(t, want[i], cells(line), "line %d: %q", i, line)
		}
		summary := strings.Split(Summary(h, 1), "\n")
		require.Len(t, summary, 3, "a heading, one item and the end: %q", summary)
		assert.True(t, strings.HasPrefix(summary[1], "- "))
	})
}
