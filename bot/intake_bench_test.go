package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/modelgate/modelgate/internal/fakegithub"
	"github.com/modelgate/modelgate/pkg/githubapp"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkWebhookIntake measures the ack path and the workers together in
// one process; bot/loadgen measures it from a second process.
func BenchmarkWebhookIntake(b *testing.B) {
	gh := fakegithub.New(b)
	cfg := serveConfig{AppID: fakegithub.AppID, PrivateKey: string(gh.AppPrivateKeyPEM()), WebhookSecret: secret,
		GitHubURL: gh.URL(), DB: filepath.Join(b.TempDir(), "bench.db"), Workers: 4, MaxBody: githubapp.DefaultMaxBody}
	srv, err := newServer(context.Background(), cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.worker.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	payload, err := os.ReadFile("../testdata/webhooks/issue_comment.created.json")
	if err != nil {
		b.Fatal(err)
	}
	sig := githubapp.Sign([]byte(secret), payload)
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, hs.URL+"/webhook", bytes.NewReader(payload))
			req.Header.Set("X-GitHub-Event", "issue_comment")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprint("b-", n.Add(1)))
			req.Header.Set("X-Hub-Signature-256", sig)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
