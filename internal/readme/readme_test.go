package readme

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/actionmeta"
	"github.com/modelgate/modelgate/internal/gittest"
)

var update = flag.Bool("update", false, "rewrite the README's generated sections")

// root is the repository, seen from this package.
const root = "../.."

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

// binaries are the action and the bot, built once, as `go run` runs them.
var binaries struct {
	once   sync.Once
	dir    string
	action string
	bot    string
	err    error
}

func built(t *testing.T) (action, bot string) {
	t.Helper()
	binaries.once.Do(func() {
		binaries.dir, binaries.err = os.MkdirTemp("", "modelgate-readme-")
		if binaries.err != nil {
			return
		}
		binaries.action = filepath.Join(binaries.dir, "action")
		binaries.bot = filepath.Join(binaries.dir, "bot")
		for pkg, out := range map[string]string{"./action": binaries.action, "./bot": binaries.bot} {
			cmd := exec.Command("go", "build", "-o", out, pkg)
			cmd.Dir = root
			if b, err := cmd.CombinedOutput(); err != nil {
				binaries.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
		}
	})
	require.NoError(t, binaries.err)
	return binaries.action, binaries.bot
}

// run runs a built command in dir with nothing of this environment that
// would change its output, and returns its standard output.
func run(t *testing.T, dir, stdin string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null"}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err, stderr.String())
	}
	return stdout.String() + stderr.String(), code
}

// generators make each generated section of the README, indented as its
// markers are.
var generators = map[string]func(t *testing.T, indent string) string{
	"summary":         summary,
	"validate-broken": validateBroken,
	"dryrun":          goldenQuote(filepath.Join(root, "pkg/canary/testdata/dryrun.md")),
	"govbench":        measured(filepath.Join(root, "testdata/bench/govbench.md")),
	"soak":            measured(filepath.Join(root, "bot/testdata/soak.md")),
	"history":         history,
	"alert-rules":     alertRules,
	"judge":           judgeExample,
	"action-flags":    actionFlags,
	"bot-flags":       botFlags,
}

func TestExamplesAreWhatTheCodePrints(t *testing.T) {
	path := filepath.Join(root, "README.md")
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	sections, err := Sections(string(src))
	require.NoError(t, err)
	texts := map[string]string{}
	for _, s := range sections {
		gen, ok := generators[s.Name]
		require.True(t, ok, "README section %s has no generator", s.Name)
		texts[s.Name] = gen(t, s.Indent)
		if !*update {
			assert.Equal(t, texts[s.Name], s.Text, "README section %s differs from what the code prints; go test ./internal/readme -update rewrites it", s.Name)
		}
	}
	for name := range generators {
		assert.Contains(t, texts, name, "the README lost its %s section", name)
	}
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(Replace(string(src), texts)), 0o644))
	}
}

// summary is the job summary for a pull request that adds fraud-detector
// 3.3.0 to the example repository, slower than 3.2.0 and with a lineage
// that pins one checksum for two data versions.
func summary(t *testing.T, indent string) string {
	action, _ := built(t)
	repo := gittest.New(t)
	repo.CopyDir(filepath.Join(root, "testdata/example"))
	repo.Commit("models")
	repo.Git("checkout", "-q", "-b", "pr")
	src, err := os.ReadFile(filepath.Join(repo.Dir, "models/fraud-detector/3.2.0/model.yaml"))
	require.NoError(t, err)
	manifest := strings.NewReplacer("version: 3.2.0", "version: 3.3.0", "f1: 0.95", "f1: 0.96", "latency_p99_ms: 45", "latency_p99_ms: 51").Replace(string(src))
	repo.Write("models/fraud-detector/3.3.0/model.yaml", manifest)
	lineage, err := json.MarshalIndent(map[string]any{
		"model_id": "fraud-detector", "version": "3.3.0", "parent_models": []string{"fraud-detector@3.2.0"},
		"training_data": map[string]any{"versions": []string{"2024.04.01", "2024.04.02"}, "checksums": []string{"sha256:" + strings.Repeat("ab", 32)}},
	}, "", "  ")
	require.NoError(t, err)
	repo.Write("models/fraud-detector/3.3.0/lineage.json", string(lineage)+"\n")
	repo.Commit("fraud-detector 3.3.0")
	out, code := run(t, repo.Dir, "", action, "validate", ".", "--format", "markdown", "--base-ref", "main")
	require.Equal(t, 1, code, out)
	return Quote(out, indent)
}

// validateBroken is the text report on testdata/broken: three files of it
// and the closing line.
func validateBroken(t *testing.T, indent string) string {
	action, _ := built(t)
	out, code := run(t, root, "", action, "validate", "testdata/broken")
	require.Equal(t, 1, code, out)
	groups := strings.Split(strings.TrimRight(out, "\n"), "\n\n")
	last := groups[len(groups)-1]
	lines := strings.Split(last, "\n")
	closing := lines[len(lines)-1]
	groups[len(groups)-1] = strings.Join(lines[:len(lines)-1], "\n")
	var shown []string
	for _, g := range groups {
		for _, file := range []string{"models/bad-yaml/", "models/cycle-a/", "models/mismatch/1.0.0/lineage.json"} {
			if strings.HasPrefix(g, file) {
				shown = append(shown, g)
			}
		}
	}
	require.Len(t, shown, 3)
	text := "```\n$ go run ./action validate testdata/broken\n" + strings.Join(shown, "\n\n") + "\n...\n" + closing + "\n```\n"
	return Indent(text, indent)
}

func goldenQuote(path string) func(t *testing.T, indent string) string {
	return func(t *testing.T, indent string) string {
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		return Quote(string(src), indent)
	}
}

// alertRules is the bot's alert rules file, which bot's metrics tests
// check with promtool.
func alertRules(t *testing.T, indent string) string {
	src, err := os.ReadFile(filepath.Join(root, "deploy/alerts.yml"))
	require.NoError(t, err)
	return Indent("```yaml\n"+string(src)+"```\n", indent)
}

// measured is a table of figures a command measured and wrote to path
// (go run ./tools/govbench -out path, the whole soak's -soak.out): no test
// can measure them again, so the README shows that file as it is, and
// changes only when it does.
func measured(path string) func(t *testing.T, indent string) string {
	return func(t *testing.T, indent string) string {
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		return Indent(string(src), indent)
	}
}

// history is bot history on the store of bot's history tests, whose
// output that test keeps in a golden file.
func history(t *testing.T, indent string) string {
	src, err := os.ReadFile(filepath.Join(root, "bot/testdata/history.md"))
	require.NoError(t, err)
	return Indent("```\n$ bot history\n"+string(src)+"```\n", indent)
}

const judgeInput = `{"id":"c1","metrics":[{"name":"latency_p99_ms","direction":"increase_is_bad","tolerance":0.05,"critical":true,"baseline":[40,41,42,43,44,45,41,42,43,44],"canary":[50,52,51,53,54,55,52,51,50,53]}]}`

func judgeExample(t *testing.T, indent string) string {
	_, bot := built(t)
	out, code := run(t, root, judgeInput+"\n", bot, "judge")
	require.Equal(t, 0, code, out)
	return Indent("```sh\necho '"+judgeInput+"' | go run ./bot judge\n"+out+"```\n", indent)
}

// flagTable is a table of the flags of some commands, from their -h.
func flagTable(t *testing.T, binary, program string, commands []string) string {
	var b strings.Builder
	b.WriteString("| command | flag | default | |\n|---|---|---|---|\n")
	for _, c := range commands {
		help, _ := run(t, root, "", binary, c, "-h")
		flags := ParseFlagHelp(help)
		require.NotEmpty(t, flags, "%s %s -h", program, c)
		for _, f := range flags {
			def := ""
			if f.Default != "" {
				def = "`" + f.Default + "`"
			}
			usage := strings.ReplaceAll(f.Usage, "|", `\|`)
			fmt.Fprintf(&b, "| `%s %s` | `-%s` | %s | %s |\n", program, c, f.Name, def, usage)
		}
	}
	return b.String()
}

func actionFlags(t *testing.T, indent string) string {
	action, _ := built(t)
	return Indent(flagTable(t, action, "action", []string{"validate", "lineage", "inventory", "verify"}), indent)
}

func botFlags(t *testing.T, indent string) string {
	_, bot := built(t)
	return Indent(flagTable(t, bot, "bot", []string{"history", "judge"}), indent)
}

func readmeTables(t *testing.T) []Table {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	return Tables(string(src))
}

// names returns the code spans of the first cell of each row.
func names(table Table) map[string][]string {
	out := map[string][]string{}
	for _, r := range table.Rows {
		for _, n := range CodeSpans(r[0]) {
			out[strings.TrimPrefix(n, "-")] = r
		}
	}
	return out
}

func TestInputsAndOutputsTablesFollowActionYML(t *testing.T) {
	meta, err := actionmeta.Read(filepath.Join(root, "action.yml"))
	require.NoError(t, err)
	tables := readmeTables(t)
	inputs, ok := FindTable(tables, "input", "default")
	require.True(t, ok, "the README has a table of the inputs")
	rows := names(inputs)
	assert.ElementsMatch(t, meta.InputNames(), keys(rows), "the README lists every input of action.yml, and no other")
	for name, in := range meta.Inputs {
		if row, ok := rows[name]; ok && in.Default != "" && len(CodeSpans(row[0])) == 1 {
			assert.Contains(t, CodeSpans(row[1]), in.Default, "the README gives the default of %s", name)
		}
	}
	outputs, ok := FindTable(tables, "output")
	require.True(t, ok, "the README has a table of the outputs")
	var want []string
	for name := range meta.Outputs {
		want = append(want, name)
	}
	assert.ElementsMatch(t, want, keys(names(outputs)), "the README lists every output of action.yml, and no other")
}

var variable = regexp.MustCompile(`\((MODELGATE_[A-Z_]+)\)`)

func TestServeFlagsTableFollowsTheFlagSet(t *testing.T) {
	_, bot := built(t)
	help, code := run(t, root, "", bot, "serve", "-h")
	require.Equal(t, 0, code, help)
	flags := ParseFlagHelp(help)
	require.NotEmpty(t, flags)
	table, ok := FindTable(readmeTables(t), "flag", "variable", "default")
	require.True(t, ok, "the README has a table of bot serve's flags")
	rows := names(table)
	var want []string
	for _, f := range flags {
		want = append(want, f.Name)
		row, ok := rows[f.Name]
		if !ok {
			continue
		}
		if f.Default != "" {
			assert.Contains(t, CodeSpans(row[2]), f.Default, "the README gives the default of -%s", f.Name)
		}
		if m := variable.FindStringSubmatch(f.Usage); m != nil {
			assert.Contains(t, CodeSpans(row[1]), m[1], "the README names the variable of -%s", f.Name)
		}
	}
	assert.ElementsMatch(t, want, keys(rows), "the README lists every flag of bot serve, and no other")
}

var link = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestLinksResolve: every link into the repository names a file that is
// there, and an anchor of a Markdown file names one of its headings.
func TestLinksResolve(t *testing.T) {
	for _, doc := range []string{"README.md", "docs/design.md"} {
		src, err := os.ReadFile(filepath.Join(root, doc))
		require.NoError(t, err)
		for _, m := range link.FindAllStringSubmatch(string(src), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			path := filepath.Join(root, filepath.Dir(doc), file)
			if file == "" {
				path = filepath.Join(root, doc)
			}
			_, err := os.Stat(path)
			if !assert.NoError(t, err, "%s links to %s", doc, target) || anchor == "" {
				continue
			}
			body, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Contains(t, headingAnchors(string(body)), anchor, "%s links to %s", doc, target)
		}
	}
}

// headingAnchors are the anchors GitHub gives a Markdown file's headings.
func headingAnchors(markdown string) []string {
	var out []string
	inCode := false
	for _, l := range strings.Split(markdown, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(l, "#") {
			continue
		}
		title := strings.ToLower(strings.TrimSpace(strings.TrimLeft(l, "#")))
		var b strings.Builder
		for _, r := range title {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
