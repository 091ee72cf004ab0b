package imagetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Image is a built image: its filesystem and the configuration a
// container engine starts it with.
type Image struct {
	Root       string
	Env        []string
	Entrypoint []string
	Cmd        []string
	User       string
	WorkingDir string
	Expose     []string
}

// Base is an image that a FROM names and that the Builder makes itself,
// having no registry to pull it from.
type Base struct {
	// Make fills the empty directory dir with the image's filesystem.
	Make func(ctx context.Context, dir string) error
	// Env is the environment the image's configuration sets.
	Env []string
	// Mounts are given to every RUN of a stage on this base: for example
	// a Go toolchain and the module cache, in place of what the real
	// image carries or downloads.
	Mounts []Mount
}

// Builder builds the stages of a Dockerfile into directories, as BuildKit
// would for the machine's own platform: FROM, ARG, ENV, WORKDIR, COPY
// (from the context, less .dockerignore, or --from a stage), RUN (in the
// stage's filesystem, as root), USER, EXPOSE, ENTRYPOINT and CMD. Any
// other instruction is an error, so that the tests cannot drift from the
// Dockerfile unnoticed.
type Builder struct {
	Dockerfile *Dockerfile
	Context    string                         // the build context's directory
	Ignore     func(string) bool              // context paths .dockerignore leaves out
	Base       func(ref string) (Base, error) // makes the image FROM names, once expanded
	Args       map[string]string              // --build-arg
	Dir        string                         // where the stages' filesystems go
	Log        io.Writer                      // the output of RUN

	built map[string]*Image
}

// Build builds the stage named target and the stages it needs.
func (b *Builder) Build(ctx context.Context, target string) (*Image, error) {
	if b.built == nil {
		b.built = map[string]*Image{}
	}
	if img, ok := b.built[target]; ok {
		return img, nil
	}
	stage, ok := b.Dockerfile.Stage(target)
	if !ok {
		return nil, fmt.Errorf("the Dockerfile has no stage %q", target)
	}
	img, err := b.buildStage(ctx, stage)
	if err != nil {
		return nil, fmt.Errorf("stage %s (Dockerfile line %d): %w", stage.Name, stage.Line, err)
	}
	b.built[target] = img
	return img, nil
}

// platformArgs are BuildKit's automatic platform arguments, for this machine.
func platformArgs() map[string]string {
	p := runtime.GOOS + "/" + runtime.GOARCH
	return map[string]string{
		"BUILDPLATFORM": p, "BUILDOS": runtime.GOOS, "BUILDARCH": runtime.GOARCH,
		"TARGETPLATFORM": p, "TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH,
	}
}

// globalArgs are the ARGs before the first FROM, which FROM lines may use.
func (b *Builder) globalArgs() (map[string]string, error) {
	args := platformArgs()
	for _, s := range b.Dockerfile.GlobalArgs {
		for _, a := range s.Args {
			name, def, _ := strings.Cut(a, "=")
			if v, ok := b.Args[name]; ok {
				args[name] = v
			} else {
				args[name] = def
			}
		}
	}
	return args, nil
}

// state is a stage while it is being built.
type state struct {
	img  *Image
	args map[string]string // the ARGs declared in the stage so far
	base Base
}

// env is what a RUN, or an expansion, sees: the image's environment and
// the stage's ARGs (the environment wins).
func (s *state) env() []string {
	out := slices.Clone(s.img.Env)
	for name, v := range s.args {
		if _, set := lookup(s.img.Env, name); !set {
			out = append(out, name+"="+v)
		}
	}
	return out
}

func (s *state) expand(word string) (string, error) {
	v, _, err := shell.NewLex('\\').ProcessWord(word, shell.EnvsFromSlice(s.env()))
	return v, err
}

func (b *Builder) buildStage(ctx context.Context, stage Stage) (*Image, error) {
	global, err := b.globalArgs()
	if err != nil {
		return nil, err
	}
	globalEnv := &state{img: &Image{}, args: global}
	ref, err := globalEnv.expand(stage.Base)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(b.Dir, stage.Name)
	if err := os.RemoveAll(root); err != nil {
		return nil, err
	}
	st := &state{args: map[string]string{}}
	if from, ok := b.Dockerfile.Stage(ref); ok {
		parent, err := b.Build(ctx, from.Name)
		if err != nil {
			return nil, err
		}
		if err := copyTree(parent.Root, root); err != nil {
			return nil, err
		}
		img := *parent
		img.Root, img.Env = root, slices.Clone(parent.Env)
		st.img = &img
	} else {
		base, err := b.Base(ref)
		if err != nil {
			return nil, fmt.Errorf("FROM %s: %w", ref, err)
		}
		if err := os.MkdirAll(root, 0o755); err != nil {
			return nil, err
		}
		if err := base.Make(ctx, root); err != nil {
			return nil, fmt.Errorf("FROM %s: %w", ref, err)
		}
		st.img = &Image{Root: root, Env: slices.Clone(base.Env)}
		st.base = base
	}
	for _, step := range stage.Steps {
		if err := b.step(ctx, st, step); err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", step.Line, step.Text, err)
		}
	}
	return st.img, nil
}

func (b *Builder) step(ctx context.Context, st *state, s Step) error {
	switch s.Command {
	case "arg":
		return b.arg(st, s)
	case "env":
		return envStep(st, s)
	case "workdir":
		dir, err := st.expand(s.Args[0])
		if err != nil {
			return err
		}
		st.img.WorkingDir = absIn(st.img.WorkingDir, dir)
		return os.MkdirAll(filepath.Join(st.img.Root, st.img.WorkingDir), 0o755)
	case "copy":
		return b.copyStep(ctx, st, s)
	case "run":
		return b.run(ctx, st, s)
	case "user":
		user, err := st.expand(s.Args[0])
		st.img.User = user
		return err
	case "expose":
		st.img.Expose = append(st.img.Expose, s.Args...)
		return nil
	case "entrypoint":
		st.img.Entrypoint = execForm(s)
		// An ENTRYPOINT resets the CMD inherited from the base.
		st.img.Cmd = nil
		return nil
	case "cmd":
		st.img.Cmd = execForm(s)
		return nil
	}
	return fmt.Errorf("the instruction %s is not supported by the image tests", strings.ToUpper(s.Command))
}

func (b *Builder) arg(st *state, s Step) error {
	platform := platformArgs()
	for _, a := range s.Args {
		name, def, hasDef := strings.Cut(a, "=")
		switch v, given := b.Args[name]; {
		case given:
			st.args[name] = v
		case platform[name] != "":
			st.args[name] = platform[name]
		case hasDef:
			expanded, err := st.expand(def)
			if err != nil {
				return err
			}
			st.args[name] = expanded
		default:
			st.args[name] = ""
		}
	}
	return nil
}

func envStep(st *state, s Step) error {
	// BuildKit's parser gives each pair as name, value, separator.
	if len(s.Args)%3 != 0 {
		return fmt.Errorf("ENV wants name and value pairs")
	}
	for i := 0; i < len(s.Args); i += 3 {
		v, err := st.expand(s.Args[i+1])
		if err != nil {
			return err
		}
		st.img.Env = setEnv(st.img.Env, s.Args[i], v)
	}
	return nil
}

// execForm is the command of ENTRYPOINT, CMD or RUN as it is executed.
func execForm(s Step) []string {
	if s.JSON {
		return slices.Clone(s.Args)
	}
	return []string{"/bin/sh", "-c", strings.Join(s.Args, " ")}
}

func (b *Builder) run(ctx context.Context, st *state, s Step) error {
	if len(s.Flags) > 0 {
		return fmt.Errorf("RUN flags %v are not supported by the image tests", s.Flags)
	}
	env := st.env()
	if _, ok := lookup(env, "PATH"); !ok {
		env = append(env, "PATH="+defaultPath)
	}
	if _, ok := lookup(env, "HOME"); !ok {
		env = append(env, "HOME=/root")
	}
	// BuildKit mounts the host's name resolution into every RUN.
	mounts := append([]Mount{{Source: "/etc/resolv.conf", Target: "/etc/resolv.conf", ReadOnly: true}}, st.base.Mounts...)
	c := Container{Root: st.img.Root, Mounts: mounts, Env: env, Dir: orRoot(st.img.WorkingDir), Args: execForm(s), Stdout: b.Log, Stderr: b.Log}
	if err := c.Run(ctx); err != nil {
		return fmt.Errorf("RUN: %w", err)
	}
	return nil
}

func (b *Builder) copyStep(ctx context.Context, st *state, s Step) error {
	if len(s.Args) < 2 {
		return fmt.Errorf("COPY wants a source and a destination")
	}
	for _, f := range s.Flags {
		if !strings.HasPrefix(f, "--from=") {
			return fmt.Errorf("COPY flag %s is not supported by the image tests", f)
		}
	}
	srcRoot, ignore := b.Context, b.Ignore
	if from, ok := flag(s.Flags, "from"); ok {
		stage, err := b.Build(ctx, from)
		if err != nil {
			return err
		}
		srcRoot, ignore = stage.Root, nil
	}
	words := make([]string, len(s.Args))
	for i, a := range s.Args {
		w, err := st.expand(a)
		if err != nil {
			return err
		}
		words[i] = w
	}
	srcs, dest := words[:len(words)-1], words[len(words)-1]
	destPath := absIn(st.img.WorkingDir, dest)
	toDir := strings.HasSuffix(dest, "/") || dest == "." || len(srcs) > 1
	for _, src := range srcs {
		if err := copyInto(srcRoot, src, filepath.Join(st.img.Root, destPath), toDir, ignore); err != nil {
			return err
		}
	}
	return nil
}

// absIn resolves dir against the working directory, as WORKDIR and COPY do.
func absIn(workdir, dir string) string {
	if filepath.IsAbs(dir) {
		return filepath.Clean(dir)
	}
	return filepath.Join(orRoot(workdir), dir)
}

func orRoot(dir string) string {
	if dir == "" {
		return "/"
	}
	return dir
}

func lookup(env []string, name string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// setEnv sets name in env, in its place when it is already there.
func setEnv(env []string, name, value string) []string {
	out := slices.Clone(env)
	if i := slices.IndexFunc(out, func(kv string) bool { return strings.HasPrefix(kv, name+"=") }); i >= 0 {
		out[i] = name + "=" + value
		return out
	}
	return append(out, name+"="+value)
}

// String shows an image's configuration, for logs.
func (img *Image) String() string {
	cfg, _ := json.Marshal(struct {
		Env, Entrypoint, Cmd []string
		User, WorkingDir     string
	}{img.Env, img.Entrypoint, img.Cmd, img.User, img.WorkingDir})
	return img.Root + " " + string(cfg)
}

// Environ is a container's environment as `docker run -e` makes it: the
// image's variables, overridden by the given ones.
func (img *Image) Environ(overrides ...string) []string {
	env := slices.Clone(img.Env)
	for _, kv := range overrides {
		name, value, _ := strings.Cut(kv, "=")
		env = setEnv(env, name, value)
	}
	return env
}
