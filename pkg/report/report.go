// Package report turns the result of a check into what people and tools
// read: a text report for the terminal and a JSON report for machines.
package report

import (
	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/gate"
)

// Summary counts what a check saw and found.
type Summary struct {
	Manifests int `json:"manifests"`
	Models    int `json:"models"`
	Errors    int `json:"errors"`
	Warnings  int `json:"warnings"`
	Infos     int `json:"infos"`
}

// Summarize counts a result.
func Summarize(r *gate.Result) Summary { return summarize(r, r.Findings) }

func summarize(r *gate.Result, fs []finding.Finding) Summary {
	n := finding.Count(fs)
	return Summary{
		Manifests: len(r.Repo.Files),
		Models:    len(r.Versions()),
		Errors:    n[finding.Error],
		Warnings:  n[finding.Warning],
		Infos:     n[finding.Info],
	}
}
