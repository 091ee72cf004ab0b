package handler

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/go-github/v60/github"
	"github.com/modelgate/modelgate/pkg/githubapp"
)

// Forgetter drops an installation's cached client.
type Forgetter interface {
	Forget(installationID int64)
}

// Installation handles installation events: an uninstalled App forgets
// the installation's client and token.
type Installation struct {
	Clients Forgetter
	Logger  *slog.Logger
}

// Handles names the events.
func (h Installation) Handles() []string { return []string{"installation"} }

// Handle forgets a deleted or suspended installation.
func (h Installation) Handle(_ context.Context, e githubapp.Event) error {
	p, err := decodePayload[github.InstallationEvent]("installation", e.Payload)
	if err != nil {
		return err
	}
	id := p.GetInstallation().GetID()
	if id <= 0 {
		return githubapp.Permanent(fmt.Errorf("installation payload lacks its installation"))
	}
	switch p.GetAction() {
	case "deleted", "suspend":
		h.Clients.Forget(id)
	}
	if h.Logger != nil {
		h.Logger.Info("installation "+p.GetAction(), "delivery", e.DeliveryID, "installation", id,
			"account", p.GetInstallation().GetAccount().GetLogin())
	}
	return nil
}
