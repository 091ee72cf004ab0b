package fakegithub

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specPath is where tools/openapi-subset writes the subset, relative to the
// module root.
const specPath = "testdata/github/openapi.json"

// spec is GitHub's OpenAPI description (the committed subset) and a router
// over it. Both are read-only once built, so every Server shares them.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

// loadSpecOnce parses the subset once per process: it is the one shared value
// of the package, kept because parsing it for every test would cost more than
// the tests themselves.
var loadSpecOnce = sync.OnceValues(func() (*spec, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	return loadSpec(filepath.Join(root, specPath))
})

// loadSpec reads, validates and indexes an OpenAPI description.
func loadSpec(file string) (*spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(file)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	ctx := context.Background()
	if err := doc.Validate(ctx, openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("validate %s: %w", file, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", file, err)
	}
	return &spec{doc: doc, router: router}, nil
}

// moduleRoot walks up from the working directory to the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("find module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}
