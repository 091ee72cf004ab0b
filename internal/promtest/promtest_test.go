package promtest

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestOpenMetricsGolden(t *testing.T) {
	var o OpenMetrics
	from := time.Unix(1764064800, 0)
	o.AddTraffic(Traffic{Model: "fraud-detector", Version: "3.1.0", RequestsPerSecond: 2, ErrorRatio: 0.25,
		Bounds: []float64{0.1, 0.5}, Below: []float64{0.5, 1}}, from, from.Add(30*time.Second), 15*time.Second)
	o.Gauge("odd", Labels{"v": "a\"b\\c\nd"}, []Point{{Time: from.Add(1500 * time.Millisecond), Value: 0.5}})
	o.Counter("model_requests", Labels{"model": "other", "version": "1.0.0"}, []Point{{Time: from, Value: 1}})

	golden := filepath.Join("testdata", "traffic.om")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(o.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), o.String())
}

func TestOpenMetricsRefusesMixedFamilies(t *testing.T) {
	var o OpenMetrics
	o.Counter("x", nil, nil)
	assert.PanicsWithValue(t, "promtest: x added as a counter [] and a gauge []", func() { o.Gauge("x", nil, nil) })
}

func TestStart(t *testing.T) {
	var o OpenMetrics
	end := time.Now().Add(-30 * time.Minute).Truncate(time.Minute)
	o.AddTraffic(Traffic{Model: "m", Version: "1.0.0", RequestsPerSecond: 4, Bounds: []float64{1}, Below: []float64{1}},
		end.Add(-time.Hour), end, 15*time.Second)
	base := Start(t, o.String())

	q := url.Values{"query": {`sum(rate(model_requests_total{model="m"}[1m]))`},
		"time": {fmt.Sprint(end.Add(-10 * time.Minute).Unix())}}
	resp, err := http.Get(base + "/api/v1/query?" + q.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	var answer struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	require.Len(t, answer.Data.Result, 1)
	assert.Equal(t, "4", answer.Data.Result[0].Value[1])
}

func TestStartFailsOnBadInput(t *testing.T) {
	fake := startRecorded(t, "not openmetrics\n")
	if fake.skipped {
		t.Skip(fake.msg)
	}
	assert.Contains(t, fake.msg, "promtool tsdb create-blocks-from openmetrics")
}

func TestStartWithoutPrometheus(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "")
	fake := startRecorded(t, "# EOF\n")
	assert.True(t, fake.skipped)
	assert.Contains(t, fake.msg, "SKIPPED, NOT TESTED: needs a real Prometheus")
	assert.Contains(t, fake.msg, "Debian: apt-get install -y prometheus")

	t.Setenv("CI", "true")
	fake = startRecorded(t, "# EOF\n")
	assert.False(t, fake.skipped, "CI=true turns the skip into a failure")
	assert.Contains(t, fake.msg, "CI needs a real Prometheus")
}

// startRecorded runs Start with a recorder in place of the test.
func startRecorded(t *testing.T, openMetrics string) *recorder {
	fake := &recorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		Start(fake, openMetrics)
	}()
	require.NotEmpty(t, fake.msg, "Start should have failed or skipped")
	return fake
}

// recorder keeps what Start reports instead of failing or skipping the
// test, and panics where those would stop the test's goroutine.
type recorder struct {
	testing.TB
	msg     string
	skipped bool
}

func (r *recorder) Fatalf(format string, args ...any) { r.msg = fmt.Sprintf(format, args...); panic(r) }
func (r *recorder) Fatal(args ...any)                 { r.msg = fmt.Sprint(args...); panic(r) }
func (r *recorder) Skip(args ...any)                  { r.msg, r.skipped = fmt.Sprint(args...), true; panic(r) }

func TestRestartableAnswersAgainAfterAStop(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "# TYPE soak_up gauge\nsoak_up 1")
	}))
	t.Cleanup(target.Close)
	p := StartRestartable(t, strings.TrimPrefix(target.URL, "http://"), 100*time.Millisecond)
	query := func() error {
		resp, err := http.Get(p.URL + "/api/v1/query?query=soak_up")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	require.NoError(t, query())
	p.Stop()
	require.Error(t, query(), "stopped")
	require.NoError(t, p.Start())
	require.NoError(t, query(), "on the same address again")
}
