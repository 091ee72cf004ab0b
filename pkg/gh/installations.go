package gh

import "github.com/google/go-github/v60/github"

// Apps gives the authenticated go-github client of an installation;
// githubapp.ClientCreator caches them and refreshes their tokens.
type Apps interface {
	Installation(installationID int64) (*github.Client, error)
}

// Installations is the one way the bot gets a Client: for the webhook in
// hand and for the work that outlives it alike.
type Installations struct {
	Apps Apps
}

// ForInstallation returns the installation's Client.
func (i Installations) ForInstallation(installationID int64) (*Client, error) {
	cl, err := i.Apps.Installation(installationID)
	if err != nil {
		return nil, err
	}
	return &Client{GitHub: cl}, nil
}
