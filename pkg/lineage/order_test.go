package lineage

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/modelgate/modelgate/pkg/manifest"
)

func TestCompareIDs(t *testing.T) {
	ids := []string{"m10@1.0.0", "m1@1.10.0", "m11@1.0.0", "m1@1.2.0", "m2@1.0.0", "a-b@1.0.0", "m01@1.0.0"}
	slices.SortFunc(ids, CompareIDs)
	assert.Equal(t, []string{"a-b@1.0.0", "m01@1.0.0", "m1@1.2.0", "m1@1.10.0", "m2@1.0.0", "m10@1.0.0", "m11@1.0.0"}, ids)
}

func TestNatural(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"m2", "m10", -1}, {"m10", "m2", 1}, {"m10", "m10", 0}, {"m", "m1", -1},
		{"m01", "m1", -1}, {"model-00009", "model-00010", -1}, {"a9b", "a10a", -1},
		{"x99999999999999999999999", "x100000000000000000000000", -1},
	} {
		assert.Equal(t, tt.want, Natural(tt.a, tt.b), "%s vs %s", tt.a, tt.b)
	}
}

func FuzzNatural(f *testing.F) {
	f.Add("m10", "m2", "m1")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		if Natural(a, b) != -Natural(b, a) {
			t.Fatalf("not antisymmetric: %q %q", a, b)
		}
		if (Natural(a, b) == 0) != (a == b) {
			t.Fatalf("equal only when the same: %q %q", a, b)
		}
		if Natural(a, b) <= 0 && Natural(b, c) <= 0 && Natural(a, c) > 0 {
			t.Fatalf("not transitive: %q %q %q", a, b, c)
		}
	})
}

func TestGraphListsVersionsInNaturalOrder(t *testing.T) {
	g := Build([]*manifest.Manifest{
		model(t, "m10@1.0.0"), model(t, "m1@1.10.0", "m10@1.0.0"), model(t, "m11@1.0.0", "m10@1.0.0"), model(t, "m1@1.2.0", "m10@1.0.0"), model(t, "m2@1.0.0"),
	})
	assert.Equal(t, []string{"m1@1.2.0", "m1@1.10.0", "m2@1.0.0", "m10@1.0.0", "m11@1.0.0"}, g.IDs())
	assert.Equal(t, []string{"m1@1.2.0", "m1@1.10.0", "m11@1.0.0"}, g.Descendants("m10@1.0.0"))
	assert.Equal(t, []string{"m1@1.2.0", "m1@1.10.0"}, g.Versions("m1"))
}
