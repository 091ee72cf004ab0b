package fakeprometheus

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/pkg/metrics"
)

// The bot's own Prometheus provider reads the fake as it reads Prometheus.
func TestTheProviderReadsTheFake(t *testing.T) {
	fake := New()
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	fake.Set("model_latency_ms", map[string]string{"model": "fraud", "version": "1.0.0"}, func(at time.Time) (float64, bool) {
		return float64(at.Sub(start) / time.Second), !at.Before(start)
	})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p, err := metrics.NewPrometheus(srv.URL, time.Second)
	require.NoError(t, err)

	q := metrics.Query{Template: `model_latency_ms{model="{{.Model}}",version="{{.Version}}"}`, Model: "fraud", Version: "1.0.0",
		Start: start.Add(-2 * time.Second), End: start.Add(4 * time.Second), Step: 2 * time.Second}
	s, err := p.Samples(context.Background(), q)
	require.NoError(t, err)
	var values []float64
	for _, x := range s.Samples {
		values = append(values, x.Value)
	}
	assert.Equal(t, []float64{0, 2, 4}, values, "no sample before the series starts")

	q.Version = "9.9.9"
	s, err = p.Samples(context.Background(), q)
	require.NoError(t, err)
	assert.Empty(t, s.Samples, "a series it does not hold: no data, as from Prometheus")

	q.Template = `rate(model_latency_ms{model="{{.Model}}"}[1m])`
	_, err = p.Samples(context.Background(), q)
	var merr *metrics.Error
	require.ErrorAs(t, err, &merr)
	assert.Equal(t, metrics.ErrBadQuery, merr.Kind, "a query it cannot read is bad_data")
	assert.Contains(t, err.Error(), "only plain selectors are served here")
}

func TestParseSelector(t *testing.T) {
	name, labels, err := parseSelector(` m{a="x", b="y\"z"} `)
	require.NoError(t, err)
	assert.Equal(t, "m", name)
	assert.Equal(t, map[string]string{"a": "x", "b": `y"z`}, labels)
	for _, bad := range []string{`m{a=~"x"}`, `sum(m)`, `m{a="x"`, `{a="x"}`} {
		_, _, err := parseSelector(bad)
		assert.Error(t, err, bad)
	}
}

// FuzzParseSelector: any query is read or refused, never a panic, and a
// selector read comes back the same from its key.
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{`m{a="x"}`, `m`, `m{a="x",b="y\"z"}`, `sum(m)`, `m{a=~"x"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		name, labels, err := parseSelector(q)
		if err != nil {
			return
		}
		again, labels2, err := parseSelector(selectorKey(name, labels))
		require.NoError(t, err)
		assert.Equal(t, name, again)
		assert.Equal(t, labels, labels2)
	})
}
