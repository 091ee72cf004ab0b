package main

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/pkg/analysis"
	"github.com/modelgate/modelgate/pkg/rollout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The README's GitHub App manifest must ask for exactly what the bot
// uses: the events it handles and the permissions its API calls need.
func TestAppManifestMatchesTheBot(t *testing.T) {
	raw, err := os.ReadFile("../examples/github-app-manifest.json")
	require.NoError(t, err)
	var m struct {
		Permissions map[string]string `json:"default_permissions"`
		Events      []string          `json:"default_events"`
	}
	require.NoError(t, json.Unmarshal(raw, &m))

	s := newScenario(t)
	var handled []string
	for _, e := range s.srv.events.Events() {
		if e != "installation" { // sent to every App, never subscribed to
			handled = append(handled, e)
		}
	}
	slices.Sort(handled)
	assert.Equal(t, handled, m.Events, "subscribe to exactly the events the bot handles")
	assert.Equal(t, map[string]string{
		"checks":        "read",  // the validation's check runs before /canary
		"contents":      "read",  // manifests at the head, .github/modelgate.yml
		"deployments":   "write", // stages, rollbacks and their statuses
		"issues":        "write", // replies, the status comment, reactions
		"metadata":      "read",  // commenters' permission
		"pull_requests": "read",  // head, files, reviews
	}, m.Permissions)
}

// The example deploy workflow reads only payload fields the bot writes
// and answers with states the bot acts on.
func TestDeployWorkflowExampleReadsTheContract(t *testing.T) {
	raw, err := os.ReadFile("../examples/workflows/deploy.yml")
	require.NoError(t, err)
	var wf map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &wf))
	assert.Equal(t, "deployment", wf["on"])

	fields := map[string]bool{}
	typ := reflect.TypeOf(rollout.Payload{})
	for i := range typ.NumField() {
		fields[strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]] = true
	}
	used := regexp.MustCompile(`github\.event\.deployment\.payload\.([a-z_]+)`).FindAllStringSubmatch(string(raw), -1)
	require.NotEmpty(t, used)
	for _, u := range used {
		assert.True(t, fields[u[1]], "the workflow reads payload.%s, which the bot does not write", u[1])
	}
	states := regexp.MustCompile(`state=([a-z_]+)`).FindAllStringSubmatch(string(raw), -1)
	var got []string
	for _, s := range states {
		got = append(got, s[1])
	}
	assert.Subset(t, got, []string{"success", "failure"})
	assert.NotContains(t, string(raw), "\n    environment:", "a job environment would make Actions create deployments of its own")
	assert.NotRegexp(t, `run: .*\$\{\{`, string(raw), "payload values reach scripts through env, never ${{ }}")
}

// The README's example plan is the example repository's, and the bot
// accepts it: every kind parses, and its queries and selectors pass the
// checks /canary makes.
func TestReadmePlanIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)4\\. \\*\\*Write the plan\\*\\*.*?```yaml\n(.*?)\n   ```").FindSubmatch(readme)
	require.NotNil(t, m, "the README's plan block")
	var inReadme []string
	for _, l := range strings.Split(string(m[1]), "\n") {
		inReadme = append(inReadme, strings.TrimPrefix(l, "   "))
	}
	manifest, err := os.ReadFile("../testdata/example/models/fraud-detector/3.2.0/model.yaml")
	require.NoError(t, err)
	block := string(manifest[strings.Index(string(manifest), "  rollout:\n"):])
	var inManifest []string
	for _, l := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		inManifest = append(inManifest, strings.TrimPrefix(l, "  "))
	}
	assert.Equal(t, inManifest, inReadme)

	var doc struct {
		Rollout map[string]any `yaml:"rollout"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(strings.Join(inReadme, "\n")), &doc))
	plan, err := rollout.ParsePlan(doc.Rollout, nil)
	require.NoError(t, err)
	require.NoError(t, analysis.CheckPlan(plan))
	kinds := map[string]bool{}
	for _, met := range plan.Analysis.Metrics {
		kinds[met.Kind+"/"+met.Direction] = true
	}
	assert.Equal(t, map[string]bool{"ratio/increase_is_bad": true, "histogram/increase_is_bad": true, "ratio/decrease_is_bad": true}, kinds,
		"errors, latency and a quality signal")
}
