package fakegithub

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-github/v60/github"
)

// BenchmarkCreateComment measures a validated, recorded request end to end
// through go-github: the cost the fake adds to every call of a scenario.
func BenchmarkCreateComment(b *testing.B) {
	s := New(b)
	scenario(s)
	gh, err := github.NewClient(nil).WithAuthToken(s.InstallationToken()).WithEnterpriseURLs(s.URL(), s.URL())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	comment := &github.IssueComment{Body: github.String("bench")}
	for b.Loop() {
		if _, _, err := gh.Issues.CreateComment(ctx, "octo", "models", 7, comment); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadSpec measures parsing the committed subset, which happens
// once per test process.
func BenchmarkLoadSpec(b *testing.B) {
	root, err := moduleRoot()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := loadSpec(filepath.Join(root, specPath)); err != nil {
			b.Fatal(err)
		}
	}
}
