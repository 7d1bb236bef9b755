package stepexec

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Defaults of an Executor made by New without options.
const (
	// DefaultEarthly is the earthly binary, looked up on the step's PATH.
	DefaultEarthly = "earthly"
	// DefaultShell runs script steps that name no shell: -e stops the
	// script at the first failing command.
	DefaultShell = "sh -e"
	// DefaultGracePeriod is how long a step's processes get between SIGTERM
	// and SIGKILL.
	DefaultGracePeriod = 5 * time.Second
)

// fallbackPATH is the PATH of DefaultEnv when the worker has none.
const fallbackPATH = "/usr/local/bin:/usr/bin:/bin"

// Executor runs CI steps as local processes: script steps through a shell,
// earthly steps through the earthly CLI. It holds only configuration, so
// one Executor serves any number of concurrent steps.
type Executor struct {
	earthly  string
	env      map[string]string
	grace    time.Duration
	stateDir string
}

var _ ports.StepExecutor = (*Executor)(nil)

// Option configures an Executor made by New.
type Option func(*Executor)

// WithEarthly sets the earthly binary: a name looked up on the step's PATH
// when a step runs, or a path. The default is DefaultEarthly.
func WithEarthly(nameOrPath string) Option {
	return func(e *Executor) { e.earthly = nameOrPath }
}

// WithEnv replaces the base environment every step starts from (the
// default is DefaultEnv). Its PATH is where the shell and earthly are
// looked up. The map is copied.
func WithEnv(env map[string]string) Option {
	copied := make(map[string]string, len(env))
	for k, v := range env {
		copied[k] = v
	}
	return func(e *Executor) { e.env = copied } // never modified
}

// WithGracePeriod sets how long a step's processes get to exit after
// SIGTERM before they are sent SIGKILL. The default is
// DefaultGracePeriod; a negative value means zero.
func WithGracePeriod(d time.Duration) Option {
	return func(e *Executor) { e.grace = max(d, 0) }
}

// WithStateDir has the executor record each running step's process group
// under dir, so that Sweep, in the next worker process, can kill what a
// worker that died left running (see Sweep). dir must belong to one worker
// process at a time; it is created when missing. Steps then also carry
// FORGE_STEP_TOKEN in their environment.
func WithStateDir(dir string) Option {
	return func(e *Executor) { e.stateDir = dir }
}

// New returns an Executor with the defaults (DefaultEarthly, DefaultEnv,
// DefaultGracePeriod) changed by opts.
func New(opts ...Option) *Executor {
	e := &Executor{earthly: DefaultEarthly, env: DefaultEnv(), grace: DefaultGracePeriod}
	for _, opt := range opts {
		opt(e)
	}
	return e
}

// DefaultEnv returns the base environment of a step: PATH, HOME and LANG
// copied from the worker's environment (PATH falls back to the usual
// system directories), and nothing else, so that credentials the worker
// holds in its own environment do not leak into build scripts. Callers
// that need more (a proxy, an Earthly configuration) extend the map and
// pass it to WithEnv.
func DefaultEnv() map[string]string {
	env := map[string]string{"PATH": fallbackPATH}
	for _, name := range []string{"PATH", "HOME", "LANG"} {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			env[name] = v
		}
	}
	return env
}

// Execute runs the step described by req; see ports.StepExecutor. A step
// whose ctx is already done does not start and is reported Cancelled.
// Errors: Validation for an incomplete or malformed request, Unavailable
// when the shell or earthly cannot be found or started, and Unavailable,
// together with the step's result, when writing to req.Output failed.
func (e *Executor) Execute(ctx context.Context, req ports.StepRequest) (ports.StepResult, error) {
	if err := validate(req); err != nil {
		return ports.StepResult{}, err
	}
	env := e.environ(req)
	path, argv, err := e.command(req, env["PATH"])
	if err != nil {
		return ports.StepResult{}, err
	}
	if ctx.Err() != nil {
		return ports.StepResult{ExitCode: -1, Cancelled: true}, nil
	}
	token := ""
	if e.stateDir != "" {
		if token, err = newToken(); err != nil {
			return ports.StepResult{}, fault.Wrap(fault.Internal, err, "step executor: making the step's token")
		}
		env[tokenEnv] = token
	}
	return run(ctx, process{
		stateDir: e.stateDir,
		token:    token,
		path:     path,
		argv:     argv,
		dir:      req.Dir,
		env:      envList(env),
		secrets:  secretValues(req.Secrets),
		output:   req.Output,
		timeout:  req.Timeout,
		grace:    e.grace,
	})
}

// environ is the step's environment: the base, then Env, then Secrets.
func (e *Executor) environ(req ports.StepRequest) map[string]string {
	env := make(map[string]string, len(e.env)+len(req.Env)+len(req.Secrets))
	for _, src := range []map[string]string{e.env, req.Env, req.Secrets} {
		for k, v := range src {
			env[k] = v
		}
	}
	return env
}

// command resolves the step's binary on pathList and returns its path and
// argument vector (argv[0] is the name the step asked for).
func (e *Executor) command(req ports.StepRequest, pathList string) (string, []string, error) {
	switch config.Action(req.Action) {
	case config.ActionScript:
		shell := strings.Fields(req.Shell)
		if len(shell) == 0 {
			shell = strings.Fields(DefaultShell)
		}
		path, err := lookPath(shell[0], pathList)
		if err != nil {
			return "", nil, err
		}
		argv := append(append(shell[:len(shell):len(shell)], "-c"), req.Run)
		return path, argv, nil
	default: // config.ActionEarthly; validate has rejected the rest
		path, err := lookPath(e.earthly, pathList)
		if err != nil {
			return "", nil, err
		}
		// earthly --ci [Args...] [--secret NAME...] <Target>, secrets in
		// name order.
		argv := []string{e.earthly, "--ci"}
		argv = append(argv, req.Args...)
		for _, name := range sortedKeys(req.Secrets) {
			// Earthly reads the value of the environment variable NAME.
			argv = append(argv, "--secret", name)
		}
		return path, append(argv, req.Target), nil
	}
}

// lookPath finds name on pathList, or checks it when it is a path, and
// returns an absolute path.
// Relative and empty PATH entries are skipped: a step must not run a
// binary that happens to sit in the worker's current directory.
func lookPath(name, pathList string) (string, error) {
	if strings.Contains(name, "/") {
		// A relative path is the worker's, not the step directory's.
		path, err := filepath.Abs(name)
		if err == nil {
			err = executable(path)
		}
		if err != nil {
			return "", fault.Wrap(fault.Unavailable, err, "step executor: cannot run %q", name)
		}
		return path, nil
	}
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		path := filepath.Join(dir, name)
		if executable(path) == nil {
			return path, nil
		}
	}
	return "", fault.New(fault.Unavailable, "step executor: cannot find %q on PATH %q", name, pathList)
}

// executable returns nil when path is a regular file someone may execute.
func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return &os.PathError{Op: "exec", Path: path, Err: os.ErrPermission}
	}
	return nil
}

// secretValues returns the values of secrets.
func secretValues(secrets map[string]string) []string {
	out := make([]string, 0, len(secrets))
	for _, name := range sortedKeys(secrets) {
		out = append(out, secrets[name])
	}
	return out
}

// envList turns env into NAME=value entries, sorted by name.
func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, name := range sortedKeys(env) {
		out = append(out, name+"="+env[name])
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
