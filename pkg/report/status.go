package report

import (
	"github.com/modelgate/modelgate/pkg/finding"
	"github.com/modelgate/modelgate/pkg/lineage"
)

// ModelStatus returns, for a model id, the worst severity of its findings
// as a lineage status ("ok" when it has none).
func ModelStatus(fs []finding.Finding) func(id string) lineage.Status {
	worst := make(map[string]finding.Severity)
	for _, f := range fs {
		if f.Model == "" {
			continue
		}
		if cur, ok := worst[f.Model]; !ok || f.Severity.Rank() < cur.Rank() {
			worst[f.Model] = f.Severity
		}
	}
	return func(id string) lineage.Status {
		switch worst[id] {
		case finding.Error:
			return lineage.StatusError
		case finding.Warning:
			return lineage.StatusWarning
		default:
			return lineage.StatusOK
		}
	}
}
