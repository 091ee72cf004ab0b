package imagetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Mount is a bind mount into a container.
type Mount struct {
	Source, Target string
	ReadOnly       bool
}

// Container is a process run as a container engine runs one: in a mount
// namespace of its own, chrooted into an image's filesystem with /proc,
// /dev and the bind mounts in place, as a user, in a working directory,
// with nothing of this process's environment.
type Container struct {
	Root     string
	Mounts   []Mount
	Env      []string
	Dir      string
	Args     []string // Args[0] is looked up on the container's PATH
	UID, GID int
	Stdin    io.Reader `json:"-"`
	Stdout   io.Writer `json:"-"`
	Stderr   io.Writer `json:"-"`
}

// childEnv carries a container's description to the re-executed test
// binary (Main), which sets the mounts up inside the new namespace.
const childEnv = "MODELGATE_IMAGETEST_CONTAINER"

// Command is the container as a command to start. The test binary must
// call Main first thing in its TestMain.
func (c Container) Command(ctx context.Context) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("container: %w", err)
	}
	spec, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("container: %w", err)
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = []string{childEnv + "=" + string(spec)}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	// The mounts live and die with the namespace: nothing to clean up,
	// whatever happens to the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	return cmd, nil
}

// Run runs the container to its end.
func (c Container) Run(ctx context.Context) error {
	cmd, err := c.Command(ctx)
	if err != nil {
		return err
	}
	return cmd.Run()
}

// Main turns the test binary into a container's first process when it was
// started by Container.Command, and returns otherwise. Call it at the top
// of TestMain.
func Main() {
	spec, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	var c Container
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		fmt.Fprintf(os.Stderr, "container: %v\n", err)
		os.Exit(125)
	}
	err := c.enter()
	// enter returns only on failure; 125 is docker run's own exit code for
	// a container that could not start.
	fmt.Fprintf(os.Stderr, "container: %v\n", err)
	os.Exit(125)
}

// enter sets up the filesystem, chroots, drops to the user and executes
// the command; it returns only an error.
func (c Container) enter() error {
	mounts := append([]Mount{{Source: "/dev", Target: "/dev"}}, c.Mounts...)
	for _, m := range mounts {
		if err := bind(c.Root, m); err != nil {
			return err
		}
	}
	if err := syscall.Mount("proc", filepath.Join(c.Root, "proc"), "proc", 0, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := syscall.Chroot(c.Root); err != nil {
		return fmt.Errorf("chroot %s: %w", c.Root, err)
	}
	dir := c.Dir
	if dir == "" {
		dir = "/"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	if len(c.Args) == 0 {
		return errors.New("no command")
	}
	path, err := lookPath(c.Args[0], c.Env)
	if err != nil {
		return err
	}
	if c.UID != 0 || c.GID != 0 {
		if err := syscall.Setgroups(nil); err != nil {
			return fmt.Errorf("setgroups: %w", err)
		}
		if err := syscall.Setgid(c.GID); err != nil {
			return fmt.Errorf("setgid %d: %w", c.GID, err)
		}
		if err := syscall.Setuid(c.UID); err != nil {
			return fmt.Errorf("setuid %d: %w", c.UID, err)
		}
	}
	return fmt.Errorf("exec %s: %w", path, syscall.Exec(path, c.Args, c.Env))
}

// bind mounts m.Source over its target inside root, creating the target
// (a directory, or an empty file for a file) when the image lacks it.
func bind(root string, m Mount) error {
	target := filepath.Join(root, m.Target)
	info, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("mount %s: %w", m.Source, err)
	}
	if info.IsDir() {
		err = os.MkdirAll(target, 0o755)
	} else if _, serr := os.Stat(target); os.IsNotExist(serr) {
		if err = os.MkdirAll(filepath.Dir(target), 0o755); err == nil {
			err = os.WriteFile(target, nil, 0o644)
		}
	}
	if err != nil {
		return fmt.Errorf("mount point %s: %w", m.Target, err)
	}
	if err := syscall.Mount(m.Source, target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", m.Source, m.Target, err)
	}
	if m.ReadOnly {
		if err := syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("read-only %s: %w", m.Target, err)
		}
	}
	return nil
}

// lookPath finds name as a container engine does: a path is taken as it
// is, a bare name is looked up on the container's own PATH (already
// chrooted).
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		candidate := filepath.Join(dir, name)
		if info, err := os.Stat(candidate); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("%s: not found on the container's PATH %s", name, path)
}

// defaultPath is the PATH a container engine gives an image that sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
