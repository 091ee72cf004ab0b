//go:build !failpoint && !soak

package failpoint

// Enabled says the build has failpoints.
const Enabled = false

// Hit does nothing: this build has no failpoints.
func Hit(point, key string) {}
