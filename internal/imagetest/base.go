package imagetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// Bases makes the base images the Dockerfile names from what this machine
// reaches: Debian's package mirror (through debootstrap) and its own Go
// toolchain. debian:SUITE-slim is debootstrap's minbase variant made slim
// as Docker's official images are; golang:VERSION-SUITE is that Debian
// with this machine's Go toolchain, module cache and build cache mounted
// where the official image has them (its version must match the tag).
type Bases struct {
	Debootstrap string // the debootstrap command
	Mirror      string // Debian's mirror, for debootstrap and apt in the image
	Cache       string // where made filesystems are kept between runs
	Log         func(format string, args ...any)
}

var (
	debianSlim = regexp.MustCompile(`^debian:([a-z]+)-slim$`)
	golangTag  = regexp.MustCompile(`^golang:(\d+\.\d+)-([a-z]+)$`)
)

// Base returns how to make the image ref.
func (b Bases) Base(ref string) (Base, error) {
	if m := debianSlim.FindStringSubmatch(ref); m != nil {
		return Base{Make: b.debian(m[1]), Env: []string{"PATH=" + defaultPath}}, nil
	}
	if m := golangTag.FindStringSubmatch(ref); m != nil {
		return b.golang(m[1], m[2])
	}
	return Base{}, fmt.Errorf("no way to make the base image %s here", ref)
}

func (b Bases) golang(version, suite string) (Base, error) {
	if !strings.HasPrefix(runtime.Version(), "go"+version) {
		return Base{}, fmt.Errorf("golang:%s-%s stands for Go %s, and this machine's Go is %s", version, suite, version, runtime.Version())
	}
	goEnv := func(name string) (string, error) {
		out, err := exec.Command("go", "env", name).Output()
		return strings.TrimSpace(string(out)), err
	}
	var dirs [3]string
	for i, name := range []string{"GOROOT", "GOMODCACHE", "GOCACHE"} {
		v, err := goEnv(name)
		if err != nil || v == "" {
			return Base{}, fmt.Errorf("go env %s: %v", name, err)
		}
		dirs[i] = v
	}
	return Base{
		Make: b.debian(suite),
		// The official image's configuration.
		Env: []string{"PATH=/go/bin:/usr/local/go/bin:" + defaultPath, "GOPATH=/go", "GOTOOLCHAIN=local", "GOLANG_VERSION=" + strings.TrimPrefix(runtime.Version(), "go")},
		Mounts: []Mount{
			{Source: dirs[0], Target: "/usr/local/go", ReadOnly: true},
			{Source: dirs[1], Target: "/go/pkg/mod"},
			{Source: dirs[2], Target: "/root/.cache/go-build"},
		},
	}, nil
}

// debian makes the slim Debian suite into a directory, from a cached copy
// that the first call of a machine makes.
func (b Bases) debian(suite string) func(context.Context, string) error {
	return func(ctx context.Context, dir string) error {
		cached := filepath.Join(b.Cache, "debian-"+suite+"-slim")
		if _, err := os.Stat(filepath.Join(cached, ".complete")); err != nil {
			if err := b.debootstrap(ctx, suite, cached); err != nil {
				return err
			}
		}
		return copyTree(cached, dir)
	}
}

func (b Bases) debootstrap(ctx context.Context, suite, dest string) error {
	if err := os.MkdirAll(b.Cache, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(b.Cache, "debootstrap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if b.Log != nil {
		b.Log("debootstrap --variant=minbase %s from %s (once per machine, kept in %s)", suite, b.Mirror, dest)
	}
	cmd := exec.CommandContext(ctx, b.Debootstrap, "--variant=minbase", suite, tmp, b.Mirror)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("debootstrap %s: %v\n%s", suite, err, tail(out, 2000))
	}
	if err := slim(tmp); err != nil {
		return err
	}
	// MkdirTemp made it private; an image's / is not.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return err
	}
	os.RemoveAll(dest)
	return os.Rename(tmp, dest)
}

// slimConfig is what makes Docker's debian:*-slim images slim: dpkg leaves
// out documentation, manual pages and translations, and apt keeps neither
// downloaded packages nor package lists in the image.
var slimConfig = map[string]string{
	"etc/dpkg/dpkg.cfg.d/docker": `path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
`,
	"etc/apt/apt.conf.d/docker-clean": `DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
`,
	"etc/apt/apt.conf.d/docker-no-languages":        "Acquire::Languages \"none\";\n",
	"etc/apt/apt.conf.d/docker-gzip-indexes":        "Acquire::GzipIndexes \"true\";\n",
	"etc/apt/apt.conf.d/docker-autoremove-suggests": "Apt::AutoRemove::SuggestsImportant \"false\";\n",
}

func slim(root string) error {
	for name, content := range slimConfig {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("slim: %w", err)
		}
	}
	// What debootstrap installed before those rules, and its caches.
	for _, pattern := range []string{"usr/share/man/*", "usr/share/info/*", "usr/share/locale/*", "usr/share/groff/*", "usr/share/lintian/*",
		"var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*", "var/log/*.log", "var/log/apt/*"} {
		matches, _ := filepath.Glob(filepath.Join(root, pattern))
		for _, m := range matches {
			if filepath.Base(m) == "locale.alias" {
				continue
			}
			if err := os.RemoveAll(m); err != nil {
				return fmt.Errorf("slim: %w", err)
			}
		}
	}
	docs, _ := filepath.Glob(filepath.Join(root, "usr/share/doc/*/*"))
	for _, d := range docs {
		if filepath.Base(d) != "copyright" {
			if err := os.RemoveAll(d); err != nil {
				return fmt.Errorf("slim: %w", err)
			}
		}
	}
	return nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
