package metrics

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultProvider is the provider a plan gets when it names none; the bot
// configures it from MODELGATE_PROMETHEUS_URL.
const DefaultProvider = "prometheus"

// ErrUnknownProvider means a plan names a provider the bot does not have.
var ErrUnknownProvider = errors.New("unknown metrics provider")

// ProviderConfig is one named provider as the bot is configured with it.
type ProviderConfig struct {
	Name    string        // as plans write it in analysis.provider
	Type    string        // "prometheus"
	URL     string        // the server's base URL
	Timeout time.Duration // per query; 0 means DefaultTimeout
}

// Registry holds the bot's providers by name. Add providers before the
// registry is shared; lookups may then run concurrently.
type Registry struct {
	providers map[string]Provider
}

// NewRegistry builds the providers configs describe.
func NewRegistry(configs []ProviderConfig) (*Registry, error) {
	r := &Registry{providers: map[string]Provider{}}
	for _, c := range configs {
		p, err := build(c)
		if err != nil {
			return nil, fmt.Errorf("metrics provider %q: %w", c.Name, err)
		}
		if err := r.Add(c.Name, p); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func build(c ProviderConfig) (Provider, error) {
	switch c.Type {
	case "prometheus", "":
		return NewPrometheus(c.URL, c.Timeout)
	}
	return nil, fmt.Errorf("type %q is not supported (supported: prometheus)", c.Type)
}

// Add registers p under name; tests use it to put a fake in place.
func (r *Registry) Add(name string, p Provider) error {
	if name == "" {
		return errors.New("metrics provider: empty name")
	}
	if _, ok := r.providers[name]; ok {
		return fmt.Errorf("metrics provider %q: configured twice", name)
	}
	r.providers[name] = p
	return nil
}

// Lookup returns the provider a plan's analysis.provider names ("" means
// DefaultProvider), or an error that says which ones exist.
func (r *Registry) Lookup(name string) (Provider, error) {
	if name == "" {
		name = DefaultProvider
	}
	if p, ok := r.providers[name]; ok {
		return p, nil
	}
	if name == DefaultProvider && len(r.providers) == 0 {
		return nil, fmt.Errorf("%w %q: no metrics provider is configured on this bot; set MODELGATE_PROMETHEUS_URL",
			ErrUnknownProvider, name)
	}
	return nil, fmt.Errorf("%w %q: this bot has %s", ErrUnknownProvider, name, r.list())
}

// Names lists the configured providers in order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.providers))
	for n := range r.providers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (r *Registry) list() string {
	if len(r.providers) == 0 {
		return "no metrics providers configured"
	}
	return strings.Join(r.Names(), ", ")
}
