package metrics

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stubProvider stands in for a provider a test registers by hand.
type stubProvider struct{}

func (stubProvider) Samples(context.Context, Query) (Series, error) { return Series{}, nil }
func (stubProvider) Counts(context.Context, CountQuery) (Increments, error) {
	return Increments{}, nil
}
func (stubProvider) ScrapeInterval(context.Context) (time.Duration, error) { return time.Second, nil }

func TestRegistryLookup(t *testing.T) {
	r, err := NewRegistry([]ProviderConfig{
		{Name: "prometheus", Type: "prometheus", URL: "http://prometheus:9090"},
		{Name: "eu", URL: "https://prom.eu.example.com/prefix"},
	})
	require.NoError(t, err)
	require.NoError(t, r.Add("fake", stubProvider{}))
	assert.Equal(t, []string{"eu", "fake", "prometheus"}, r.Names())

	for _, name := range []string{"", "prometheus", "eu"} {
		p, err := r.Lookup(name)
		require.NoError(t, err, name)
		assert.IsType(t, &Prometheus{}, p, name)
	}
	p, err := r.Lookup("fake")
	require.NoError(t, err)
	assert.Equal(t, stubProvider{}, p)

	_, err = r.Lookup("datadog")
	require.ErrorIs(t, err, ErrUnknownProvider)
	assert.EqualError(t, err, `unknown metrics provider "datadog": this bot has eu, fake, prometheus`)
}

func TestRegistryWithoutProviders(t *testing.T) {
	r, err := NewRegistry(nil)
	require.NoError(t, err)
	_, err = r.Lookup("")
	require.ErrorIs(t, err, ErrUnknownProvider)
	assert.ErrorContains(t, err, `"prometheus": no metrics provider is configured on this bot; set MODELGATE_PROMETHEUS_URL`)
	_, err = r.Lookup("eu")
	assert.ErrorContains(t, err, `"eu": this bot has no metrics providers configured`)
}

func TestNewRegistryRefuses(t *testing.T) {
	tests := []struct {
		name    string
		configs []ProviderConfig
		want    string
	}{
		{"bad URL", []ProviderConfig{{Name: "prometheus", URL: "prometheus:9090"}},
			`metrics provider "prometheus": prometheus address "prometheus:9090": want an http or https URL like http://prometheus:9090`},
		{"unknown type", []ProviderConfig{{Name: "dd", Type: "datadog", URL: "https://x"}},
			`metrics provider "dd": type "datadog" is not supported (supported: prometheus)`},
		{"twice", []ProviderConfig{{Name: "p", URL: "http://a"}, {Name: "p", URL: "http://b"}},
			`metrics provider "p": configured twice`},
		{"no name", []ProviderConfig{{URL: "http://a"}}, "metrics provider: empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRegistry(tt.configs)
			assert.EqualError(t, err, tt.want)
		})
	}
}
