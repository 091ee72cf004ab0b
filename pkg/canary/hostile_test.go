package canary_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modelgate/modelgate/internal/hostile"
)

// Every place the engine writes PR text into Markdown or a plain-text
// field holds it inert: replies, the status comment, notices, deployment
// and deployment-status descriptions, the dry run.
func TestHostileTextStaysInert(t *testing.T) {
	tests := []struct {
		name string
		// run drives the engine with hostile text and returns the replies
		// it wrote; the comments it posted are in the fake GitHub.
		run func(h *harness) (replies []string)
	}{
		{"the /rollback reply, its notice and the status comment", func(h *harness) []string {
			h.canary(autoPlan)
			return []string{h.command("/rollback fraud-detector " + hostile.Text).Reply}
		}},
		{"the replies that describe a rollout of a hostile baseline", func(h *harness) []string {
			plan := strings.Replace(autoPlan, "baseline: 3.1.0", "baseline: '3.1.0 "+hostile.Text+"'", 1)
			req := h.request("/canary", plan)
			start, err := h.eng.Commands.Canary(context.Background(), req)
			require.NoError(h.t, err)
			h.drain()
			h.answer("success")
			return []string{start.Reply, h.command("/pause").Reply, h.command("/abort").Reply}
		}},
		{"the /lock reply and its refusal", func(h *harness) []string {
			return []string{h.command("/lock production " + hostile.Text).Reply, h.command("/lock production").Reply,
				h.command("/unlock production").Reply}
		}},
		{"a /promote refused by a lock", func(h *harness) []string {
			h.canary(manualPlan)
			h.command("/lock production " + hostile.Text)
			return []string{h.command("/promote").Reply}
		}},
		{"a model and version of hostile names", func(h *harness) []string {
			req := h.request("/canary", autoPlan)
			req.Targets[0].Model, req.Targets[0].Version = "fraud "+hostile.Lines, "3.2.0 "+hostile.Lines
			out, err := h.eng.Commands.Canary(context.Background(), req)
			require.NoError(h.t, err)
			h.drain()
			h.answer("success")
			return []string{out.Reply, h.command("/rollback").Reply}
		}},
		{"the dry run", func(h *harness) []string {
			req := h.request("/canary --dry-run", autoPlan)
			req.Targets[0].Model, req.Targets[0].Version, req.Targets[0].Path = hostile.Lines, hostile.Lines, hostile.Lines
			req.PolicyReasons = []string{hostile.Lines}
			req.Approvers = []string{hostile.Text}
			req.ConfigErr = errors.New(hostile.Lines)
			req.PullRequest.HeadRepo = hostile.Text
			second := h.request("/canary --dry-run", autoPlan).Targets[0]
			second.Version = hostile.Lines
			req.Targets = append(req.Targets, second)
			out, err := h.eng.Commands.Canary(context.Background(), req)
			require.NoError(h.t, err)
			return []string{out.Reply}
		}},
		{"a /canary refused for its configuration", func(h *harness) []string {
			req := h.request("/canary", autoPlan)
			req.ConfigErr = errors.New(hostile.Lines)
			out, err := h.eng.Commands.Canary(context.Background(), req)
			require.NoError(h.t, err)
			return []string{out.Reply}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			replies := tt.run(h)
			require.NotEmpty(t, replies)
			shown := false
			for _, md := range replies {
				shown = shown || hostile.Shown(md)
				hostile.AssertInert(t, md, 0)
			}
			require.True(t, shown, "a reply shows the text: %q", replies)
			for _, md := range h.gh.bodies() {
				hostile.AssertInert(t, md, 1) // a status comment or a notice, with its own marker
			}
			for _, d := range h.gh.deployments {
				hostile.AssertPlain(t, d.Description, 140)
			}
			for _, ds := range h.gh.descriptions {
				for _, d := range ds {
					hostile.AssertPlain(t, d, 140)
				}
			}
		})
	}
}
