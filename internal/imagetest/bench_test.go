package imagetest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/gittest"
)

// BenchmarkActionContainer is the time from the action's container start
// to its exit on the example repository (a push: no base to compare with),
// as GitHub's runner starts it; pulling the image is not in it.
//
//	go test -run '^$' -bench ActionContainer -benchtime 10x ./internal/imagetest
func BenchmarkActionContainer(b *testing.B) {
	img, _ := requireImages(b)
	repo := gittest.New(b)
	repo.CopyDir(filepath.Join(root, "testdata/example"))
	head := repo.Commit("models")
	chownTree(b, repo.Dir, runnerUID)
	co := checkout{dir: repo.Dir, base: head, head: head}
	b.ResetTimer()
	for b.Loop() {
		s := runAction(b, img, co, runner{eventName: "push", event: map[string]any{}})
		require.Equal(b, 0, s.code, s.stdout+s.stderr)
	}
}

// TestImageSizes holds the images to a budget, unpacked: a package pulled
// in by accident (apt's recommends, a toolchain left in the final stage)
// shows here. Run with -v for the figures.
func TestImageSizes(t *testing.T) {
	action, bot := requireImages(t)
	for _, img := range []struct {
		name   string
		image  *Image
		budget int64
	}{{"action", action, 230e6}, {"bot", bot, 140e6}} {
		size := diskUsage(t, img.image.Root)
		binary := diskUsage(t, filepath.Join(img.image.Root, img.image.Entrypoint[0]))
		t.Logf("%s image: %.1f MB unpacked, of which %.1f MB its binary", img.name, float64(size)/1e6, float64(binary)/1e6)
		assert.Less(t, size, img.budget, "the %s image", img.name)
	}
}
