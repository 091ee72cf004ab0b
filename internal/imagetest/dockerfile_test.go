package imagetest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTheRepositorysDockerfile(t *testing.T) {
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	require.NoError(t, err)
	defer f.Close()
	df, err := ParseDockerfile(f)
	require.NoError(t, err)
	var names []string
	for _, s := range df.Stages {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"build", "action", "bot"}, names)
	build, _ := df.Stage("build")
	assert.Equal(t, "$BUILDPLATFORM", build.Platform, "the Go build cross-compiles on the builder's platform")
}

func TestParseDockerfileRefuses(t *testing.T) {
	tests := []struct{ name, dockerfile, message string }{
		{"no FROM", "RUN true\n", "run before the first FROM"},
		{"only ARGs", "ARG X=1\n", "no FROM"},
		{"a FROM with extra words", "FROM a b c d\n", "FROM wants an image and an optional AS name"},
		{"an unknown FROM flag", "FROM --foo=bar debian\n", "FROM flag --foo=bar is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDockerfile(strings.NewReader(tt.dockerfile))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

// TestBuilderRefusesWhatItCannotFollow: an instruction the builder does
// not carry out fails the build, so the image tests never pass on an
// image that differs from the Dockerfile's.
func TestBuilderRefusesWhatItCannotFollow(t *testing.T) {
	tests := []struct{ name, dockerfile, message string }{
		{"ADD", "FROM scratch\nADD x /x\n", "the instruction ADD is not supported"},
		{"SHELL", "FROM scratch\nSHELL [\"/bin/bash\", \"-c\"]\n", "the instruction SHELL is not supported"},
		{"RUN --mount", "FROM scratch\nRUN --mount=type=cache,target=/c true\n", "RUN flags [--mount=type=cache,target=/c] are not supported"},
		{"COPY --chown", "FROM scratch\nCOPY --chown=1:1 x /x\n", "COPY flag --chown=1:1 is not supported"},
		{"an unknown base", "FROM alpine:3.20\n", "no way to make the base image alpine:3.20 here"},
		{"a missing target", "FROM scratch AS one\n", `no stage "two"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			df, err := ParseDockerfile(strings.NewReader(tt.dockerfile))
			require.NoError(t, err)
			b := &Builder{Dockerfile: df, Context: t.TempDir(), Dir: t.TempDir(), Base: func(ref string) (Base, error) {
				if ref == "scratch" {
					return Base{Make: func(context.Context, string) error { return nil }}, nil
				}
				return Bases{}.Base(ref)
			}}
			target := df.Stages[0].Name
			if tt.name == "a missing target" {
				target = "two"
			}
			_, err = b.Build(t.Context(), target)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

func TestBuilderFollowsArgEnvWorkdirAndCopy(t *testing.T) {
	ctxDir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(ctxDir, "src", "node_modules"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(ctxDir, "src", "a.txt"), []byte("a"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(ctxDir, "src", "node_modules", "x.js"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(ctxDir, ".dockerignore"), []byte("**/node_modules\n"), 0o644))
	ignore, err := DockerIgnore(ctxDir)
	require.NoError(t, err)
	df, err := ParseDockerfile(strings.NewReader("ARG BASE=scratch\nFROM $BASE AS one\nARG TARGETARCH=never\nARG V=1\nENV A=$V B=\"x y\"\nWORKDIR /w\nWORKDIR sub\nCOPY src/ ./\nUSER 7:7\nENTRYPOINT [\"/bin/x\"]\nCMD [\"serve\"]\n"))
	require.NoError(t, err)
	b := &Builder{Dockerfile: df, Context: ctxDir, Ignore: ignore, Dir: t.TempDir(), Args: map[string]string{"V": "2"},
		Base: func(string) (Base, error) {
			return Base{Make: func(context.Context, string) error { return nil }, Env: []string{"PATH=/bin"}}, nil
		}}
	img, err := b.Build(t.Context(), "one")
	require.NoError(t, err)
	assert.Equal(t, []string{"PATH=/bin", "A=2", "B=x y"}, img.Env, "a build argument over the ARG's default")
	assert.Equal(t, "/w/sub", img.WorkingDir)
	assert.FileExists(t, filepath.Join(img.Root, "w/sub/a.txt"))
	assert.NoDirExists(t, filepath.Join(img.Root, "w/sub/node_modules"), ".dockerignore")
	assert.Equal(t, "7:7", img.User)
	assert.Equal(t, []string{"/bin/x"}, img.Entrypoint)
	assert.Equal(t, []string{"serve"}, img.Cmd)
	assert.Equal(t, []string{"PATH=/bin", "A=3", "B=x y", "C=4"}, img.Environ("A=3", "C=4"))
}
