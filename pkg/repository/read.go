package repository

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/manifest"
)

// reader reads one manifest and its lineage.
type reader struct {
	root string
	opts Options
}

type result struct {
	model    *manifest.Manifest
	findings []finding.Finding
}

func (r reader) read(rel string) result {
	doc, f := r.decode(rel)
	if f != nil {
		return result{findings: []finding.Finding{*f}}
	}
	var res result
	res.findings = r.opts.Schemas.ValidateManifest(rel, doc)
	m := manifest.FromDocument(rel, doc)
	if m.Metadata.Name == "" || m.Metadata.Version == "" {
		// Without an identity the file cannot join the graph; the schema
		// findings already say what is missing.
		return res
	}
	res.model = m
	lin, fs := r.lineage(m)
	m.Lineage = lin
	res.findings = append(res.findings, fs...)
	return res
}

// lineage reads the model's lineage, inline or from its file.
func (r reader) lineage(m *manifest.Manifest) (*manifest.Lineage, []finding.Finding) {
	spec, _ := m.Doc.Value.(map[string]any)["spec"].(map[string]any)
	switch v := spec["lineage"].(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return manifest.LineageFrom(m.File, "spec.lineage", m.Doc, v), nil
	case string:
		rel := path.Join(path.Dir(m.File), filepath.ToSlash(v))
		if path.IsAbs(v) || filepath.IsAbs(v) || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, []finding.Finding{r.lineageRefFinding(m, fmt.Sprintf("lineage file %q: %v", v, errOutside))}
		}
		doc, f := r.decode(rel)
		if f != nil {
			if f.Rule == RuleFile {
				return nil, []finding.Finding{r.lineageRefFinding(m, f.Message)}
			}
			return nil, []finding.Finding{*f}
		}
		fs := r.opts.Schemas.ValidateLineage(rel, doc)
		return manifest.LineageFrom(rel, "", doc, doc.Value), fs
	default:
		return nil, nil // the schema reports the wrong type
	}
}

func (r reader) lineageRefFinding(m *manifest.Manifest, msg string) finding.Finding {
	line, col, _ := m.Doc.Locate("spec.lineage")
	return finding.Finding{Rule: RuleLineage, Title: "Lineage file", Severity: finding.Error, File: m.File, Line: line, Column: col, Path: "spec.lineage", Model: m.ID(), Message: msg}
}

// decode reads and decodes one file of the repository. A problem is
// returned as a finding: RuleFile when the file cannot be read, RuleSyntax
// when it cannot be decoded.
func (r reader) decode(rel string) (*manifest.Document, *finding.Finding) {
	data, err := r.readFile(rel)
	if err != nil {
		return nil, &finding.Finding{Rule: RuleFile, Title: "Unreadable file", Severity: finding.Error, File: rel, Line: 1, Column: 1, Message: err.Error()}
	}
	doc, err := manifest.Decode(rel, data, r.opts.Limits)
	if err != nil {
		f := &finding.Finding{Rule: RuleSyntax, Title: "Invalid file", Severity: finding.Error, File: rel, Line: 1, Column: 1, Message: err.Error()}
		var se *manifest.SyntaxError
		if errors.As(err, &se) {
			f.Message = se.Msg
			if se.Line > 0 {
				f.Line, f.Column = se.Line, se.Column
			}
		}
		return nil, f
	}
	return doc, nil
}

// readFile reads a file of the repository, refusing files that resolve
// outside it (through symbolic links) and files over the size limit, which
// it never reads whole.
func (r reader) readFile(rel string) ([]byte, error) {
	full := filepath.Join(r.root, filepath.FromSlash(rel))
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist", rel)
		}
		return nil, fmt.Errorf("resolve %s: %w", rel, err)
	}
	if within, _ := filepath.Rel(r.root, real); within == ".." || strings.HasPrefix(within, ".."+string(filepath.Separator)) || filepath.IsAbs(within) {
		return nil, fmt.Errorf("%s is a symbolic link to %s: %w", rel, real, errOutside)
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", rel, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", rel, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", rel)
	}
	max := r.opts.Limits.MaxBytes
	if info.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, over the limit of %d bytes", rel, info.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s grew over the limit of %d bytes while being read", rel, max)
	}
	return data, nil
}
