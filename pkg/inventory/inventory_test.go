package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/golden"
	"github.com/modelgate/modelgate/pkg/gate"
)

func TestBuildAndRender(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res, err := gate.Run(context.Background(), gate.Options{Root: "../../testdata/example", Now: now})
	require.NoError(t, err)
	added := map[string]time.Time{"models/fraud-detector/3.2.0/model.yaml": now.AddDate(0, 0, -10)}
	rows := Build(res, added)
	require.Len(t, rows, 7)
	fd := rows[3]
	assert.Equal(t, "fraud-detector", fd.Model)
	assert.Equal(t, 10, *fd.AgeDays)
	assert.Nil(t, rows[0].AgeDays, "unknown age without history")
	assert.Equal(t, []string{"fraud-detector@3.1.0", "text-encoder@1.1.0"}, fd.Parents)
	assert.Equal(t, []string{"bert-base-uncased"}, rows[5].Parents, "external parents are listed")

	var md bytes.Buffer
	require.NoError(t, Markdown(&md, rows))
	assert.Contains(t, md.String(), "| fraud-detector | 3.2.0 | staging | risk-ml@example.com | high | cost_per_call_usd=0.0012 f1=0.95 latency_p99_ms=45 memory_mb=2300 | fraud-detector@3.1.0, text-encoder@1.1.0 | 10 d | 2027-12-31 |")
	var js bytes.Buffer
	require.NoError(t, JSON(&js, rows))
	var back []Row
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, rows[3].Metrics, back[3].Metrics)
}

func TestCellEscapesTableAndMarkup(t *testing.T) {
	assert.Equal(t, "—", cell(""))
	assert.Equal(t, `a\|b c &lt;b&gt; \[x\]`, cell("a|b\nc <b> [x]"))
	assert.Equal(t, "@\u200borg/team and @\u200balice", cell("@org/team and @alice"))
	assert.Equal(t, "risk-ml@example.com", cell("risk-ml@example.com"), "an e-mail address is not a mention")
}

func TestLiveColumnAndField(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res, err := gate.Run(context.Background(), gate.Options{Root: "../../testdata/example", Now: now})
	require.NoError(t, err)
	plain := Build(res, nil)
	var before bytes.Buffer
	require.NoError(t, JSON(&before, plain))
	var md bytes.Buffer
	require.NoError(t, Markdown(&md, plain))
	assert.NotContains(t, before.String(), `"live"`, "no live field unless it was looked up")
	assert.NotContains(t, md.String(), "Live", "no Live column unless it was looked up")

	since := now.Add(-48 * time.Hour)
	rows := Build(res, nil)
	for i := range rows {
		rows[i].Live = []Live{}
	}
	rows[2].Live = []Live{{Environment: "production", TrafficPercent: 75, Since: &since, Source: "github"}, {Environment: "staging", TrafficPercent: 100, Source: "github"}}
	rows[3].Live = []Live{{Environment: "production", TrafficPercent: 25, Canary: true, Since: &since, Source: "github"}}
	rows[4].Live = []Live{{Environment: "eu|west", TrafficPercent: 12.5, Canary: true, Source: "github"}}
	md.Reset()
	require.NoError(t, Markdown(&md, rows))
	golden.Assert(t, "live.md", md.String())
	var js bytes.Buffer
	require.NoError(t, JSON(&js, rows))
	golden.Assert(t, "live.json", js.String())

	var back []map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, []any{}, back[0]["live"], "a version that serves nowhere has an empty list")
	delete(back[0], "live")
	var plainBack []map[string]any
	require.NoError(t, json.Unmarshal(before.Bytes(), &plainBack))
	assert.Equal(t, plainBack[0], back[0], "the other fields stay as they were")
}
