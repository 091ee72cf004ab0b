package governance

import (
	"context"

	"github.com/open-policy-agent/opa/v1/rego"
)

func (e *Engine) prepareAuthz(ctx context.Context) (*rego.PreparedEvalQuery, error) {
	return nil, nil
}
