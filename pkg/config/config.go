// Package config reads a repository's modelgate configuration,
// .github/modelgate.yml: where manifests and policies are, what fails a
// check, the repository-wide default rollout plan, and what the bot may do.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Path is where the configuration lives, relative to the repository root.
const Path = ".github/modelgate.yml"

// MaxBytes bounds the configuration file.
const MaxBytes = 256 << 10

// Config is the repository's modelgate configuration. Every field is
// optional; the action's inputs override it.
type Config struct {
	// Manifests is the glob that finds manifests.
	Manifests string `yaml:"manifests"`
	// FailOn is error, warning or never.
	FailOn string `yaml:"fail-on"`
	Policy Policy `yaml:"policy"`
	// Rollout is the default rollout plan, for manifests without one; it
	// is kept as written for the rollout package to read.
	Rollout map[string]any `yaml:"rollout"`
	Bot     Bot            `yaml:"bot"`
}

// Policy says which policies and data judge the repository.
type Policy struct {
	// Dirs are directories of Rego policies, relative to the root.
	Dirs []string `yaml:"dirs"`
	// Data are data files merged over the default bundle's data.
	Data []string `yaml:"data"`
	// Namespaces are the Rego packages to evaluate (default: main).
	Namespaces []string `yaml:"namespaces"`
	// AllNamespaces evaluates every package with deny/violation/warn rules.
	AllNamespaces bool `yaml:"all-namespaces"`
	// DefaultBundle turns modelgate's own policies off when false.
	DefaultBundle *bool `yaml:"default-bundle"`
}

// Bot holds what the bot may do in this repository.
type Bot struct {
	// AllowForks lets /canary deploy pull requests from forks.
	AllowForks bool `yaml:"allow-forks"`
}

// UsesDefaultBundle reports whether modelgate's own policies apply.
func (p Policy) UsesDefaultBundle() bool { return p.DefaultBundle == nil || *p.DefaultBundle }

// Load reads the configuration of the repository at root. A repository
// without one gets the zero Config.
func Load(root string) (*Config, error) {
	f, err := os.Open(path.Join(root, Path))
	if errors.Is(err, os.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", Path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", Path, err)
	}
	return Parse(data)
}

// Parse decodes a configuration, refusing unknown fields (a typo must not
// silently turn a rule off) and paths that leave the repository.
func Parse(data []byte) (*Config, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%s: file is over %d bytes", Path, MaxBytes)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, decodeError(err)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", Path, err)
	}
	return &c, nil
}

// decodeError says what is wrong with the file in its own terms: the file
// and line, and for a key it does not know (a typo such as fail_on) the
// keys that are valid there, never a Go type name.
func decodeError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %s", Path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		msgs[i] = problem(e)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// problem rewrites one of yaml's messages, "line 2: field fail_on not
// found in type config.Config", as ".github/modelgate.yml:2: unknown key
// fail_on (valid keys: ...)".
func problem(msg string) string {
	line, rest, ok := strings.Cut(strings.TrimPrefix(msg, "line "), ": ")
	if !ok {
		return fmt.Sprintf("%s: %s", Path, msg)
	}
	where := Path + ":" + line
	var key, typ string
	if n, _ := fmt.Sscanf(rest, "field %s not found in type %s", &key, &typ); n == 2 {
		if keys := validKeys(typ); keys != "" {
			return fmt.Sprintf("%s: unknown key %s (valid keys here: %s)", where, key, keys)
		}
		return fmt.Sprintf("%s: unknown key %s", where, key)
	}
	return fmt.Sprintf("%s: %s", where, rest)
}

// validKeys lists the keys of the configuration's section that a yaml
// type name stands for, in the order the file documents them.
func validKeys(typeName string) string {
	var v any
	switch typeName {
	case "config.Config":
		v = Config{}
	case "config.Policy":
		v = Policy{}
	case "config.Bot":
		v = Bot{}
	default:
		return ""
	}
	t := reflect.TypeOf(v)
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return strings.Join(keys, ", ")
}

func (c *Config) validate() error {
	switch c.FailOn {
	case "", "error", "warning", "never":
	default:
		return fmt.Errorf("fail-on: %q is not one of error, warning, never", c.FailOn)
	}
	for _, group := range [][]string{c.Policy.Dirs, c.Policy.Data} {
		for _, p := range group {
			if err := inside(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// inside refuses a path that is absolute or climbs out of the repository.
func inside(p string) error {
	clean := path.Clean(strings.ReplaceAll(p, `\`, "/"))
	if p == "" || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("policy path %q must be relative and inside the repository", p)
	}
	return nil
}

// PolicyPaths lists every path the configuration names for policies and
// data, plus the configuration file itself: what a pull request must not be
// able to change for its own check.
func (c *Config) PolicyPaths() []string {
	out := []string{Path}
	out = append(out, c.Policy.Dirs...)
	return append(out, c.Policy.Data...)
}
