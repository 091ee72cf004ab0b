package handler

import (
	"encoding/json"
	"fmt"

	"github.com/modelgate/modelgate/pkg/githubapp"
)

// decodePayload decodes a webhook payload into go-github's type for the
// event. A payload that does not fit the type is a permanent failure: a
// retry would meet the same bytes.
func decodePayload[T any](event string, payload []byte) (*T, error) {
	p := new(T)
	if err := json.Unmarshal(payload, p); err != nil {
		return nil, githubapp.Permanent(fmt.Errorf("decode %s payload: %w", event, err))
	}
	return p, nil
}
