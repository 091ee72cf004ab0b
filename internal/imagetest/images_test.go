package imagetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/actionmeta"
	"github.com/modelgate/modelgate/internal/needs"
)

// root is the repository: the build context, seen from this package.
const root = "../.."

func TestMain(m *testing.M) {
	Main()
	code := m.Run()
	if images.dir != "" {
		os.RemoveAll(images.dir)
	}
	os.Exit(code)
}

// images are built once per test process, from the Dockerfile.
var images struct {
	once       sync.Once
	dir        string
	action     *Image
	bot        *Image
	buildLog   bytes.Buffer
	err        error
	actionYML  actionmeta.Metadata
	actionSize int64
}

// requireImages builds both images, or skips the test (fails it under
// CI=true) on a machine that cannot: the tests need root for chroot and
// bind mounts, and debootstrap for the Debian base.
func requireImages(t testing.TB) (action, bot *Image) {
	t.Helper()
	if os.Geteuid() != 0 {
		needs.Missing(t, "root", "run the image tests as root: they chroot and bind-mount", fmt.Errorf("running as uid %d", os.Geteuid()))
	}
	debootstrap := "/usr/sbin/debootstrap" // where Debian puts it, off a user's PATH
	if _, err := os.Stat(debootstrap); err != nil {
		debootstrap = needs.Command(t, "debootstrap", "apt-get install -y --no-install-recommends debootstrap")
	}
	images.once.Do(func() { images.err = buildImages(t, debootstrap) })
	if images.err != nil {
		t.Fatalf("build the images: %v\n%s", images.err, tail(images.buildLog.Bytes(), 4000))
	}
	return images.action, images.bot
}

func buildImages(t testing.TB, debootstrap string) error {
	meta, err := actionmeta.Read(filepath.Join(root, "action.yml"))
	if err != nil {
		return err
	}
	images.actionYML = meta
	target, err := actionTarget(meta.Runs.Image)
	if err != nil {
		return err
	}
	src, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		return err
	}
	df, err := ParseDockerfile(bytes.NewReader(src))
	if err != nil {
		return err
	}
	ignore, err := DockerIgnore(root)
	if err != nil {
		return err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return err
	}
	images.dir, err = os.MkdirTemp("", "modelgate-images-")
	if err != nil {
		return err
	}
	bases := Bases{Debootstrap: debootstrap, Mirror: mirror(), Cache: filepath.Join(cache, "modelgate-imagetest"), Log: t.Logf}
	b := &Builder{Dockerfile: df, Context: root, Ignore: ignore, Base: bases.Base, Args: map[string]string{"VERSION": "test"},
		Dir: images.dir, Log: &images.buildLog}
	ctx := context.Background()
	if images.action, err = b.Build(ctx, target); err != nil {
		return err
	}
	images.bot, err = b.Build(ctx, "bot")
	return err
}

// actionTarget is the Dockerfile stage of the image action.yml runs: the
// release workflow pushes stage NAME as ghcr.io/OWNER/REPO-NAME.
func actionTarget(image string) (string, error) {
	ref, ok := strings.CutPrefix(image, "docker://ghcr.io/modelgate/modelgate-")
	if !ok {
		return "", fmt.Errorf("action.yml runs %q, not an image the release workflow pushes", image)
	}
	name, _, _ := strings.Cut(ref, ":")
	return name, nil
}

// mirror is Debian's mirror for debootstrap; IMAGETEST_DEBIAN_MIRROR
// names another.
func mirror() string {
	if m := os.Getenv("IMAGETEST_DEBIAN_MIRROR"); m != "" {
		return m
	}
	return "http://deb.debian.org/debian"
}

// diskUsage is the size of a filesystem tree, in bytes of its files.
func diskUsage(t testing.TB, dir string) int64 {
	t.Helper()
	out, err := exec.Command("du", "-sb", dir).Output()
	require.NoError(t, err)
	n, err := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	require.NoError(t, err)
	return n
}
