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
	// fsys opens files that might lead outside the repository.
	fsys *os.Root
	// walked holds the directories the walk visited: real directories
	// inside the repository, where only the file itself can be a link.
	walked *dirSet
	opts   Options
}

type result struct {
	file     string
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
	lin, fs := r.lineage(m, doc)
	m.Lineage = lin
	res.findings = append(res.findings, fs...)
	if r.opts.Visit != nil {
		r.opts.Visit(m, doc)
	}
	return res
}

// lineage reads the lineage of the model decoded from doc, inline or from
// its file.
func (r reader) lineage(m *manifest.Manifest, doc *manifest.Document) (*manifest.Lineage, []finding.Finding) {
	spec, _ := doc.Value.(map[string]any)["spec"].(map[string]any)
	switch v := spec["lineage"].(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return manifest.LineageFrom(m.File, "spec.lineage", doc, v), nil
	case string:
		rel := path.Join(path.Dir(m.File), filepath.ToSlash(v))
		if path.IsAbs(v) || filepath.IsAbs(v) || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, []finding.Finding{lineageRefFinding(m, doc, fmt.Sprintf("lineage file %q: %v", v, errOutside))}
		}
		lin, f := r.decode(rel)
		if f != nil {
			if f.Rule == RuleFile {
				return nil, []finding.Finding{lineageRefFinding(m, doc, f.Message)}
			}
			return nil, []finding.Finding{*f}
		}
		fs := r.opts.Schemas.ValidateLineage(rel, lin)
		return manifest.LineageFrom(rel, "", lin, lin.Value), fs
	default:
		return nil, nil // the schema reports the wrong type
	}
}

func lineageRefFinding(m *manifest.Manifest, doc *manifest.Document, msg string) finding.Finding {
	line, col, _ := doc.Locate("spec.lineage")
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

// readFile reads a file of the repository through an os.Root, which refuses
// paths that resolve outside the repository (through "..", absolute paths or
// symbolic links), and refuses files over the size limit without reading
// them whole.
func (r reader) readFile(rel string) ([]byte, error) {
	f, err := r.open(rel)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("%s does not exist", rel)
		case strings.Contains(err.Error(), "escapes from parent"):
			return nil, fmt.Errorf("%s is a symbolic link: %w", rel, errOutside)
		}
		return nil, fmt.Errorf("open %s: %w", rel, err)
	}
	defer f.Close()
	size, regular, err := f.stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", rel, err)
	}
	if !regular {
		return nil, fmt.Errorf("%s is not a regular file", rel)
	}
	limit := r.opts.Limits.MaxBytes
	if size > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the limit of %d bytes", rel, size, limit)
	}
	data, err := readSized(f, size, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s grew over the limit of %d bytes while being read", rel, limit)
	}
	return data, nil
}

// openedFile is a file of the repository open for reading.
type openedFile interface {
	io.Reader
	Close() error
	// stat returns the file's size and whether it is a regular file.
	stat() (size int64, regular bool, err error)
}

// open opens a file of the repository. A regular file in a walked directory
// is opened directly; anything else goes through the os.Root, which checks
// every component of the path.
func (r reader) open(rel string) (openedFile, error) {
	if r.walked.has(path.Dir(rel)) {
		if f, err := openNoFollow(filepath.Join(r.root, filepath.FromSlash(rel))); err == nil {
			return f, nil
		}
	}
	f, err := r.fsys.OpenFile(filepath.FromSlash(rel), openFlags, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// osFile is an openedFile behind an *os.File.
type osFile struct{ *os.File }

func (f osFile) stat() (int64, bool, error) {
	info, err := f.Stat()
	if err != nil {
		return 0, false, err
	}
	return info.Size(), info.Mode().IsRegular(), nil
}

// readSized reads a file whose size was just taken, reading up to one byte
// past the limit. A first read that comes back short of size+1 bytes has
// reached the end of a regular file, which saves the system call that would
// only confirm it; a file that grew since is read on.
func readSized(f io.Reader, size, limit int64) ([]byte, error) {
	buf := make([]byte, size+1)
	n, err := f.Read(buf)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n < len(buf) || err != nil {
		return buf[:n], nil
	}
	return readAll(io.LimitReader(f, limit+1-int64(n)), buf)
}

// readAll appends everything r yields to buf.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
