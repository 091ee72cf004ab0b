package governance

import (
	"io"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSeedRules(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/seeds"}})
	for _, tc := range []struct {
		rule      string
		want      string // "" when not seeded
		undefined bool
	}{
		{rule: "limit", want: "20"},
		{rule: "doubled", want: "40"},
		{rule: "missing", undefined: true},
		{rule: "f1"},                  // reads input
		{rule: "clock"},               // reads the clock
		{rule: "printed", want: "20"}, // print is compiled out without Options.Print
		{rule: "conflicting"},         // fails: each document reports it
		{rule: "nested"},              // reads a rule that reads input
	} {
		t.Run(tc.rule, func(t *testing.T) {
			v, undefined, ok := e.seeds.get(ast.MustParseRef("data.main." + tc.rule))
			assert.Equal(t, tc.want != "" || tc.undefined, ok, "seeded")
			assert.Equal(t, tc.undefined, undefined)
			if tc.want != "" {
				require.NotNil(t, v)
				assert.Equal(t, tc.want, v.String())
			}
		})
	}
}

func TestSeededValuesInEvaluation(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/seeds"}})
	doc := testDoc("a.yaml", nil) // latency_p99_ms 45: above the seeded 40, below 200 set by with
	got := byRule(evaluate(t, e, doc))
	require.Len(t, got["main.deny"], 1)
	assert.Equal(t, "latency above 40", got["main.deny"][0].Message, "the with modifier does not see the seed")
	require.Len(t, got["main.warn"], 1)
	assert.Equal(t, "no value", got["main.warn"][0].Message, "an undefined seed stays undefined")
	require.Len(t, got[ErrorRule], 1, "the conflict is reported on the document")
	assert.Contains(t, got[ErrorRule][0].Message, "main.violation: ")
	require.Len(t, got["main.warn_gate"], 1)
	assert.Equal(t, "gate open, level 2, fallback Model", got["main.warn_gate"][0].Message)
}

func TestPrintingRuleNotSeeded(t *testing.T) {
	e := load(t, Options{PolicyDirs: []string{"testdata/seeds"}, Print: io.Discard})
	_, _, ok := e.seeds.get(ast.MustParseRef("data.main.printed"))
	assert.False(t, ok, "its print must run on every document")
	_, _, ok = e.seeds.get(ast.MustParseRef("data.main.limit"))
	assert.True(t, ok)
}

func TestRuleCache(t *testing.T) {
	s := &seeds{}
	s.put(ast.MustParseRef("data.p.seeded"), ast.IntNumberTerm(7))
	c := newRuleCache(s)
	get := func(ref string) (string, bool) {
		v, undefined := c.Get(ast.MustParseRef(ref))
		if v == nil {
			return "", undefined
		}
		return v.String(), undefined
	}
	v, _ := get("data.p.seeded")
	assert.Equal(t, "7", v, "the seed answers")
	v, undefined := get("data.p.x")
	assert.Empty(t, v)
	assert.False(t, undefined, "not cached")

	c.Put(ast.MustParseRef("data.p.x"), ast.StringTerm("a"))
	c.Put(ast.MustParseRef("data.p.gone"), nil)
	v, _ = get("data.p.x")
	assert.Equal(t, `"a"`, v)
	_, undefined = get("data.p.gone")
	assert.True(t, undefined, "an undefined rule is cached as such")
	assert.Len(t, c.Keys(), 1, "keys list the defined values")

	c.Push() // with: a frame of its own, no seeds
	v, _ = get("data.p.x")
	assert.Empty(t, v)
	v, _ = get("data.p.seeded")
	assert.Empty(t, v, "no seed inside with")
	c.Put(ast.MustParseRef("data.p.x"), ast.StringTerm("b"))
	v, _ = get("data.p.x")
	assert.Equal(t, `"b"`, v)
	c.Pop()
	v, _ = get("data.p.x")
	assert.Equal(t, `"a"`, v, "the outer frame is untouched")

	c.reset()
	v, _ = get("data.p.x")
	assert.Empty(t, v, "reset forgets the evaluation's values")
	v, _ = get("data.p.seeded")
	assert.Equal(t, "7", v, "and keeps the seeds")
}

func TestSeedsIgnoreCompositeKeys(t *testing.T) {
	s := &seeds{}
	s.put(ast.MustParseRef("data.p.x"), ast.IntNumberTerm(1))
	ref := ast.Ref{ast.DefaultRootDocument, ast.StringTerm("p"), ast.ArrayTerm(ast.StringTerm("x"))}
	_, _, ok := s.get(ref)
	assert.False(t, ok)
}
