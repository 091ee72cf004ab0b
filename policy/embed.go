// Package policy holds modelgate's default governance bundle: Rego rules in
// packages modelgate.<topic>, their Rego unit tests and the default data.
package policy

import (
	"embed"
	"io/fs"
)

//go:embed data.json *.rego authz/*.rego
var files embed.FS

// Bundle returns the default bundle as a read-only file system rooted at the
// bundle's top directory (data.json, *.rego, authz/*.rego).
func Bundle() fs.FS {
	return files
}
