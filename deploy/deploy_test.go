// Package deploy holds the bot's deployment examples (docker-compose.yml,
// kubernetes/) and the tests that load them as their tools would and
// start the bot with the environment they set.
package deploy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/modelgate/modelgate/internal/pgtest"
)

var pg pgtest.Server

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	if bot.dir != "" {
		os.RemoveAll(bot.dir)
	}
	os.Exit(code)
}

// composeEnv is what a user exports before `docker compose up`.
var composeEnv = map[string]string{"MODELGATE_APP_ID": "123456", "MODELGATE_WEBHOOK_SECRET": "webhook-s3cret", "POSTGRES_PASSWORD": "pg-s3cret"}

// loadCompose loads a compose file as `docker compose` does: interpolated,
// validated against the Compose Specification's schema, and checked.
func loadCompose(t *testing.T, path string, env map[string]string) (*types.Project, error) {
	t.Helper()
	abs, err := filepath.Abs(path)
	require.NoError(t, err)
	return loader.LoadWithContext(t.Context(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(abs),
		ConfigFiles: []types.ConfigFile{{Filename: abs}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("modelgate", true) })
}

// releasedVersion is the version action.yml runs: the examples run the
// bot image of the same release.
func releasedVersion(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../action.yml")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^  image: docker://ghcr\.io/modelgate/modelgate-action:(\S+)$`).FindSubmatch(src)
	require.NotNil(t, m)
	return string(m[1])
}

func TestComposeFile(t *testing.T) {
	p, err := loadCompose(t, "docker-compose.yml", composeEnv)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"bot", "postgres", "prometheus"}, p.ServiceNames())
	svc := p.Services["bot"]
	assert.Equal(t, "ghcr.io/modelgate/modelgate-bot:"+releasedVersion(t), svc.Image)
	env := composeEnvironment(svc)

	db, err := url.Parse(env["MODELGATE_DB"])
	require.NoError(t, err)
	assert.Equal(t, "postgres", db.Scheme)
	assert.Contains(t, p.ServiceNames(), db.Hostname(), "MODELGATE_DB names the compose file's database")
	pgEnv := composeEnvironment(p.Services[db.Hostname()])
	assert.Equal(t, pgEnv["POSTGRES_USER"], db.User.Username())
	password, _ := db.User.Password()
	assert.Equal(t, pgEnv["POSTGRES_PASSWORD"], password)
	assert.Equal(t, "/"+pgEnv["POSTGRES_DB"], db.Path)

	prom, err := url.Parse(env["MODELGATE_PROMETHEUS_URL"])
	require.NoError(t, err)
	assert.Contains(t, p.ServiceNames(), prom.Hostname())

	require.Len(t, svc.Secrets, 1)
	assert.Equal(t, "/run/secrets/"+svc.Secrets[0].Source, env["MODELGATE_PRIVATE_KEY"], "the key is the secret compose mounts")
	assert.Contains(t, svc.DependsOn, "postgres")
}

func TestComposeRefuses(t *testing.T) {
	t.Run("a variable left unset", func(t *testing.T) {
		env := map[string]string{"MODELGATE_APP_ID": "1", "MODELGATE_WEBHOOK_SECRET": "s"}
		_, err := loadCompose(t, "docker-compose.yml", env)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "a password for PostgreSQL")
	})
	t.Run("a key the specification does not have", func(t *testing.T) {
		src, err := os.ReadFile("docker-compose.yml")
		require.NoError(t, err)
		bad := filepath.Join(t.TempDir(), "docker-compose.yml")
		require.NoError(t, os.WriteFile(bad, bytes.Replace(src, []byte("    environment:\n      MODELGATE_APP_ID"), []byte("    enviroment:\n      MODELGATE_APP_ID"), 1), 0o644))
		_, err = loadCompose(t, bad, composeEnv)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "services.bot.enviroment false schema")
	})
}

func composeEnvironment(svc types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for k, v := range svc.Environment {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// manifests decodes every document of the Kubernetes manifests strictly:
// an unknown or duplicate field is an error, as `kubectl apply
// --validate=strict` makes it.
func manifests(t *testing.T, src []byte) ([]runtime.Object, error) {
	t.Helper()
	scheme := runtime.NewScheme()
	require.NoError(t, appsv1.AddToScheme(scheme))
	require.NoError(t, corev1.AddToScheme(scheme))
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(src)))
	var objs []runtime.Object
	for {
		doc, err := reader.Read()
		if err == io.EOF {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			return nil, err
		}
		objs = append(objs, obj)
	}
}

func kubernetesObjects(t *testing.T) (*appsv1.Deployment, *corev1.Service) {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	require.NoError(t, err)
	var dep *appsv1.Deployment
	var svc *corev1.Service
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		objs, err := manifests(t, src)
		require.NoError(t, err, f)
		for _, o := range objs {
			switch o := o.(type) {
			case *appsv1.Deployment:
				dep = o
			case *corev1.Service:
				svc = o
			default:
				t.Fatalf("%s: unexpected %T", f, o)
			}
		}
	}
	require.NotNil(t, dep, "a Deployment")
	require.NotNil(t, svc, "a Service")
	return dep, svc
}

func TestKubernetesManifests(t *testing.T) {
	dep, svc := kubernetesObjects(t)
	require.NotNil(t, dep.Spec.Replicas)
	assert.Equal(t, int32(2), *dep.Spec.Replicas, "two replicas")
	pod := dep.Spec.Template
	require.Len(t, pod.Spec.Containers, 1)
	c := pod.Spec.Containers[0]
	assert.Equal(t, "ghcr.io/modelgate/modelgate-bot:"+releasedVersion(t), c.Image)
	require.NotNil(t, c.LivenessProbe)
	require.NotNil(t, c.ReadinessProbe)
	assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)

	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	for _, name := range []string{"MODELGATE_APP_ID", "MODELGATE_WEBHOOK_SECRET", "MODELGATE_DB"} {
		ref := env[name].ValueFrom
		require.NotNil(t, ref, "%s comes from the secret", name)
		assert.Equal(t, "modelgate", ref.SecretKeyRef.Name)
	}
	assert.Equal(t, pod.Labels, dep.Spec.Selector.MatchLabels)
	assert.Equal(t, pod.Labels, svc.Spec.Selector, "the Service selects the bot's pods")
	assert.Equal(t, c.Ports[0].Name, svc.Spec.Ports[0].TargetPort.String())
}

func TestKubernetesStrictDecoderRefuses(t *testing.T) {
	src, err := os.ReadFile("kubernetes/deployment.yaml")
	require.NoError(t, err)
	tests := []struct{ name, from, to, message string }{
		{"an unknown field", "  replicas: 2", "  replica: 2", `unknown field "spec.replica"`},
		{"a duplicate field", "  replicas: 2", "  replicas: 2\n  replicas: 3", `"replicas" already set`},
		{"a wrong type", "  replicas: 2", "  replicas: two", "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := manifests(t, bytes.Replace(src, []byte(tt.from), []byte(tt.to), 1))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

// TestBotStartsWithTheComposeEnvironment starts bot serve with the
// environment the compose file gives it; only the addresses change to
// this machine's: the database is a real PostgreSQL with the URL's own
// options, the private key a file at the path compose mounts it.
func TestBotStartsWithTheComposeEnvironment(t *testing.T) {
	p, err := loadCompose(t, "docker-compose.yml", composeEnv)
	require.NoError(t, err)
	env := composeEnvironment(p.Services["bot"])
	dir := t.TempDir()
	env["MODELGATE_PRIVATE_KEY"] = writeKey(t, dir, env["MODELGATE_PRIVATE_KEY"])
	env["MODELGATE_DB"] = onTestDatabase(t, env["MODELGATE_DB"])
	serve(t, env)
}

// TestBotStartsWithTheKubernetesEnvironment does the same with the
// Deployment's environment, the secret's keys filled in.
func TestBotStartsWithTheKubernetesEnvironment(t *testing.T) {
	dep, _ := kubernetesObjects(t)
	c := dep.Spec.Template.Spec.Containers[0]
	secret := map[string]string{"app-id": "123456", "webhook-secret": "webhook-s3cret",
		"database-url": "postgres://modelgate:pw@postgres:5432/modelgate?sslmode=disable"}
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			v, ok := secret[e.ValueFrom.SecretKeyRef.Key]
			require.True(t, ok, "the secret's key %s is documented", e.ValueFrom.SecretKeyRef.Key)
			env[e.Name] = v
			continue
		}
		env[e.Name] = e.Value
	}
	dir := t.TempDir()
	env["MODELGATE_PRIVATE_KEY"] = writeKey(t, dir, env["MODELGATE_PRIVATE_KEY"])
	env["MODELGATE_DB"] = onTestDatabase(t, env["MODELGATE_DB"])
	assert.Equal(t, []string{"serve"}, c.Args)
	serve(t, env)
}

// writeKey writes a private key where path would be inside the container,
// under dir, and returns where it is.
func writeKey(t *testing.T, dir, path string) string {
	t.Helper()
	require.True(t, filepath.IsAbs(path), "MODELGATE_PRIVATE_KEY is the mounted file %q", path)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	local := filepath.Join(dir, path)
	require.NoError(t, os.MkdirAll(filepath.Dir(local), 0o755))
	require.NoError(t, os.WriteFile(local, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
	return local
}

// onTestDatabase keeps the URL's options and points it at a database of
// the test's own PostgreSQL.
func onTestDatabase(t *testing.T, dsn string) string {
	t.Helper()
	want, err := url.Parse(dsn)
	require.NoError(t, err)
	got, err := url.Parse(pg.DSN(t))
	require.NoError(t, err)
	q := got.Query()
	for k, v := range want.Query() {
		q[k] = v
	}
	got.RawQuery = q.Encode()
	return got.String()
}

// bot is the bot's binary, built once for the tests of this package.
var bot struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func botBinary(t *testing.T) string {
	t.Helper()
	bot.once.Do(func() {
		bot.dir, bot.err = os.MkdirTemp("", "modelgate-deploy-")
		if bot.err != nil {
			return
		}
		bot.path = filepath.Join(bot.dir, "bot")
		cmd := exec.Command("go", "build", "-o", bot.path, "./bot")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			bot.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, bot.err)
	return bot.path
}

// serve runs bot serve with exactly env (and a free port of this machine
// for MODELGATE_LISTEN) and checks the endpoints the probes use.
func serve(t *testing.T, env map[string]string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	env["MODELGATE_LISTEN"] = addr
	cmd := exec.CommandContext(t.Context(), botBinary(t), "serve")
	cmd.Dir = t.TempDir()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	get := func(path string) int {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	ok := assert.Eventually(t, func() bool { return get("/readyz") == http.StatusOK }, 30*time.Second, 100*time.Millisecond, "ready on its database")
	assert.Equal(t, http.StatusOK, get("/healthz"))
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Error("bot serve did not stop")
	}
	if !ok || t.Failed() {
		t.Logf("bot serve:\n%s", strings.TrimSpace(logs.String()))
	}
}
