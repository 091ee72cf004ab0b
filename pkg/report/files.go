package report

import (
	"slices"

	"github.com/modelgate/modelgate/pkg/finding"
)

// fileFindings are the findings of one file, "" for the repository.
type fileFindings struct {
	file     string
	findings []finding.Finding
}

// byFile groups the findings shown by file, every manifest checked listed
// even without findings, in file order with the repository's first: the
// test cases of the formats that count tests (TAP, JUnit).
func (r *Report) byFile() []fileFindings {
	groups := map[string][]finding.Finding{}
	for _, f := range r.Result.Repo.Files {
		groups[f] = nil
	}
	for _, f := range r.shown() {
		groups[f.File] = append(groups[f.File], f)
	}
	files := make([]string, 0, len(groups))
	for f := range groups {
		files = append(files, f)
	}
	slices.Sort(files)
	out := make([]fileFindings, len(files))
	for i, f := range files {
		out[i] = fileFindings{f, groups[f]}
	}
	return out
}

// name is how a file is named in a test report.
func (g fileFindings) name() string {
	if g.file == "" {
		return "(repository)"
	}
	return g.file
}
