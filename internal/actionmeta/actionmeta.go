// Package actionmeta reads action.yml as GitHub's runner does, and says
// what the runner hands a docker action: its INPUT_ variables and its
// arguments. The tests that run the action (the end-to-end tests, the
// image tests) take both from here, never from a copy of action.yml.
package actionmeta

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Metadata is action.yml: the keys of the action metadata syntax, and
// nothing else.
type Metadata struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs  map[string]Input `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
	} `yaml:"outputs"`
	Runs struct {
		Using      string            `yaml:"using"`
		Image      string            `yaml:"image"`
		Args       []string          `yaml:"args"`
		Env        map[string]string `yaml:"env"`
		Entrypoint string            `yaml:"entrypoint"`
	} `yaml:"runs"`
}

// Input is one of the action's inputs.
type Input struct {
	Description        string `yaml:"description"`
	Required           bool   `yaml:"required"`
	Default            string `yaml:"default"`
	DeprecationMessage string `yaml:"deprecationMessage"`
}

// Read parses the action.yml at path strictly: a YAML error or a key the
// metadata syntax does not know fails, as it fails GitHub's loader.
func Read(path string) (Metadata, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Metadata{}, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var m Metadata
	if err := dec.Decode(&m); err != nil {
		return Metadata{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// InputNames lists the inputs, sorted.
func (m Metadata) InputNames() []string {
	names := make([]string, 0, len(m.Inputs))
	for name := range m.Inputs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// EnvName is the variable that carries an input to a docker action: the
// name upper-cased, spaces made underscores, hyphens kept.
func EnvName(input string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(input, " ", "_"))
}

var inputExpr = regexp.MustCompile(`\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}`)

// Invocation is what the runner hands the action's container for a step
// whose `with:` is with: a variable for every declared input (the step's
// value, else the default), the runs.env variables, and runs.args with
// ${{ inputs.NAME }} expanded. A value for an input that action.yml does
// not declare is an error, as it draws GitHub's "Unexpected input" warning.
func (m Metadata) Invocation(with map[string]string) (env, args []string, err error) {
	values := map[string]string{}
	for name, in := range m.Inputs {
		values[name] = in.Default
	}
	for name, v := range with {
		if _, ok := m.Inputs[name]; !ok {
			return nil, nil, fmt.Errorf("input %q is not declared in action.yml", name)
		}
		values[name] = v
	}
	for _, name := range m.InputNames() {
		env = append(env, EnvName(name)+"="+values[name])
	}
	for name, v := range m.Runs.Env {
		env = append(env, name+"="+v)
	}
	for _, a := range m.Runs.Args {
		args = append(args, inputExpr.ReplaceAllStringFunc(a, func(e string) string {
			return values[inputExpr.FindStringSubmatch(e)[1]]
		}))
	}
	return env, args, nil
}

// ReadOutputs reads a GITHUB_OUTPUT file as the runner does: name=value
// lines and name<<DELIMITER blocks. A file that does not exist holds no
// outputs; an output set twice is an error, as nothing should write one so.
func ReadOutputs(path string) (map[string]string, error) {
	out := map[string]string{}
	src, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, value, ok := strings.Cut(lines[i], "=")
		if heredoc, delim, isBlock := strings.Cut(lines[i], "<<"); isBlock && (!ok || len(heredoc) < len(name)) {
			name = heredoc
			var body []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				body = append(body, lines[i])
			}
			if i == len(lines) {
				return nil, fmt.Errorf("%s: output %s: no closing %s", path, name, delim)
			}
			value, ok = strings.Join(body, "\n"), true
		}
		if !ok {
			return nil, fmt.Errorf("%s: line %q is neither name=value nor name<<DELIMITER", path, lines[i])
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s: output %s set twice", path, name)
		}
		out[name] = value
	}
	return out, nil
}
