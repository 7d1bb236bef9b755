package gitcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

// passEnv lists the variables git may inherit: what finds programs and
// temporary space, and what ssh and TLS need to reach a remote. Everything
// else, notably GIT_* variables that redirect repositories, is dropped.
var passEnv = []string{
	"PATH", "HOME", "TMPDIR",
	"SSH_AUTH_SOCK", "GIT_SSH", "GIT_SSH_COMMAND",
	"GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "SSL_CERT_FILE", "SSL_CERT_DIR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
	"http_proxy", "https_proxy", "no_proxy", "all_proxy",
}

// gitEnv is the environment of every git the cache runs: no system or
// user configuration, no prompts, messages in English (errors are
// classified by their text).
func gitEnv() []string {
	env := []string{
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
		"LANG=C",
	}
	for _, k := range passEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if os.Getenv("GIT_SSH") == "" && os.Getenv("GIT_SSH_COMMAND") == "" {
		env = append(env, "GIT_SSH_COMMAND=ssh -o BatchMode=yes")
	}
	return env
}

// baseArgs come before every git subcommand. Hooks are off: a job may
// write into the shared repository, and the cache must not run its code.
var baseArgs = []string{"-c", "core.hooksPath=/dev/null"}

// maxStderr bounds how much of git's stderr is kept for a message.
const maxStderr = 64 << 10

// gitError is a git command that failed: its subcommand, its stderr
// (redacted and trimmed) and the exit error.
type gitError struct {
	subcommand string
	stderr     string
	err        error
}

// Error says which git command failed and what git said, on one line.
func (e *gitError) Error() string {
	var lines []string
	for _, l := range strings.Split(e.stderr, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	msg := strings.Join(lines, "; ")
	if msg == "" {
		msg = e.err.Error()
	}
	return fmt.Sprintf("git %s: %s", e.subcommand, msg)
}

func (e *gitError) Unwrap() error { return e.err }

// git runs the git binary with args and returns its stdout. A failure is a
// *gitError, or an Unavailable fault wrapping the context's error when the
// context ended (the whole process group is killed then).
func (c *Cache) git(ctx context.Context, args ...string) ([]byte, error) {
	return c.gitInput(ctx, nil, args...)
}

// gitInput is git with stdin.
func (c *Cache) gitInput(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "git %s", subcommand(args))
	}
	cmd := exec.CommandContext(ctx, c.gitPath, append(append([]string{}, baseArgs...), args...)...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The negative pid signals the group: git and the helpers it
		// started (upload-pack, remote-https, ssh).
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	var stdout bytes.Buffer
	stderr := &capped{max: maxStderr}
	cmd.Stdin = stdin
	cmd.Stdout = &stdout
	cmd.Stderr = stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fault.Wrap(fault.Unavailable, ctxErr, "git %s", subcommand(args))
	}
	return nil, &gitError{subcommand: subcommand(args), stderr: strings.TrimSpace(redact(stderr.String())), err: err}
}

// subcommand names the git subcommand in args, for messages.
func subcommand(args []string) string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-c":
			i++ // its value, a setting
		case !strings.HasPrefix(a, "-"):
			return a
		}
	}
	return ""
}

// capped is a buffer that keeps the first max bytes written to it.
type capped struct {
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		if len(p) > room {
			c.buf.Write(p[:room])
		} else {
			c.buf.Write(p)
		}
	}
	return len(p), nil
}

func (c *capped) String() string { return c.buf.String() }

// userinfo matches the user:password@ part of a URL.
var userinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s?#]*@`)

// redact removes the user:password@ (or token@) part of every URL in s, so
// that no message or log line carries credentials.
func redact(s string) string {
	return userinfo.ReplaceAllString(s, "${1}")
}

// unreachable are fragments of git's messages (lowercase) that mean the
// remote could not be reached or refused who we are.
var unreachable = []string{
	"could not read from remote repository",
	"does not appear to be a git repository",
	"unable to access",
	"could not resolve host",
	"could not resolve hostname",
	"connection refused",
	"connection timed out",
	"connection reset",
	"operation timed out",
	"network is unreachable",
	"no route to host",
	"unable to connect",
	"failed to connect",
	"authentication failed",
	"could not read username",
	"could not read password",
	"terminal prompts disabled",
	"permission denied (publickey",
	"host key verification failed",
	"the requested url returned error",
	"the remote end hung up unexpectedly",
	"rpc failed",
	"early eof",
	"ssl certificate problem",
	"repository not found",
}

// missingRepository matches git's "repository '<url>' not found" (HTTP 404).
var missingRepository = regexp.MustCompile(`repository '[^']*' not found`)

// refused are fragments of git's messages (lowercase) that mean the remote
// does not serve the commit asked for: it does not have it, or it does not
// serve unadvertised commits.
var refused = []string{
	"not our ref",
	"unadvertised object",
	"couldn't find remote ref",
	"no such remote ref",
}

// kindOf classifies a failed git command by its message.
func kindOf(err error) fault.Kind {
	var ge *gitError
	if !errors.As(err, &ge) {
		return fault.KindOf(err)
	}
	msg := strings.ToLower(ge.stderr)
	for _, s := range unreachable {
		if strings.Contains(msg, s) {
			return fault.Unavailable
		}
	}
	if missingRepository.MatchString(msg) {
		return fault.Unavailable
	}
	for _, s := range refused {
		if strings.Contains(msg, s) {
			return fault.NotFound
		}
	}
	return fault.Internal
}

// toFault turns an error of git into a *fault.Error: a fault passes
// through, a gitError gets the kind its message says.
func toFault(err error, format string, args ...any) error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	return fault.Wrap(kindOf(err), err, format, args...)
}

// commitInfo returns the committer time of commit (in UTC), its author
// ("Name <email>") and its message.
func (c *Cache) readCommit(ctx context.Context, gitDir, commit string) (when time.Time, author, message string, err error) {
	out, err := c.git(ctx, "--git-dir="+gitDir, "show", "-s", "--format=%ct%x00%an <%ae>%x00%B", commit)
	if err != nil {
		return time.Time{}, "", "", toInternal(err, "reading commit %s", commit)
	}
	parts := strings.SplitN(string(out), "\x00", 3)
	var secs int64
	if len(parts) == 3 {
		secs, err = strconv.ParseInt(parts[0], 10, 64)
	}
	if len(parts) != 3 || err != nil {
		return time.Time{}, "", "", fault.New(fault.Internal, "reading commit %s: git printed %q", commit, out)
	}
	return time.Unix(secs, 0).UTC(), parts[1], strings.TrimSpace(parts[2]), nil
}
