package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// serverUser is who runs initdb and postgres: ourselves, or, as root (which
// postgres refuses), the unprivileged "postgres" or "nobody" account.
type serverUser struct {
	uid, gid uint32
	switchTo bool
}

func findServerUser() (serverUser, error) {
	if os.Geteuid() != 0 {
		return serverUser{}, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 == nil && err2 == nil {
			return serverUser{uid: uint32(uid), gid: uint32(gid), switchTo: true}, nil
		}
	}
	return serverUser{}, fmt.Errorf("running as root and no unprivileged user (postgres, nobody) to run postgres as")
}

// chown gives dir to the server's user.
func (u serverUser) chown(dir string) error {
	if !u.switchTo {
		return nil
	}
	if err := os.Chown(dir, int(u.uid), int(u.gid)); err != nil {
		return fmt.Errorf("chown %s: %w", dir, err)
	}
	return nil
}

// apply makes cmd run as the server's user and die with this process.
func (u serverUser) apply(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if u.switchTo {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.uid, Gid: u.gid}
	}
}
