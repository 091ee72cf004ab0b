//go:build !linux

package pgtest

import (
	"errors"
	"os"
	"os/exec"
)

// serverUser is who runs initdb and postgres: ourselves, off Linux.
type serverUser struct{}

func findServerUser() (serverUser, error) {
	if os.Geteuid() == 0 {
		return serverUser{}, errors.New("running as root: postgres refuses root, run the tests as another user")
	}
	return serverUser{}, nil
}

func (serverUser) chown(string) error { return nil }

func (serverUser) apply(*exec.Cmd) {}
