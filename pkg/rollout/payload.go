package rollout

import "encoding/json"

// Payload is the payload of every deployment the bot creates (DESIGN.md,
// "Deployments"): the deploy workflow reads it to shift the traffic, and
// the bot and the inventory read it back. Stage counts from 1; a
// rollback keeps the canary's Version, sends it 0 % of the traffic and
// all of it to BaselineVersion.
type Payload struct {
	Model           string  `json:"model"`
	Version         string  `json:"version"`
	BaselineVersion string  `json:"baseline_version"`
	Stage           int     `json:"stage"`
	TrafficPercent  float64 `json:"traffic_percent"`
	RolloutID       int64   `json:"rollout_id"`
}

// ReadPayload reads a deployment's payload, which GitHub hands back as an
// object or, for some clients, as a JSON string. It keeps only payloads
// made under the contract: a model, a version, a stage, a rollout, and a
// share of the traffic between 0 and 100 %.
func ReadPayload(raw json.RawMessage) (Payload, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	var p Payload
	if json.Unmarshal(raw, &p) != nil || p.Model == "" || p.Version == "" || p.Stage <= 0 || p.RolloutID <= 0 ||
		p.TrafficPercent < 0 || p.TrafficPercent > 100 {
		return Payload{}, false
	}
	return p, true
}
