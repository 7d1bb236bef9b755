package forgecli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Version is the forge release, set at build time with
// -ldflags "-X github.com/catalyst-forge/forge/reference/forgecli.Version=v1.2.3".
var Version = "dev"

// Exit codes of the forge command.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and found problems, or failed
	ExitUsage   = 2 // the command line itself was wrong
)

// streams are where a command writes.
type streams struct {
	out, err io.Writer
}

// exitError carries an exit code through cobra without printing twice.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// failed returns an error that makes Main print msg and exit with code 1.
func failed(format string, args ...any) error {
	return &exitError{code: ExitFailure, msg: fmt.Sprintf(format, args...)}
}

// silentFailure makes Main exit with code 1 without printing anything more.
var silentFailure = &exitError{code: ExitFailure}

// Main runs the forge command with args (without the program name) and
// returns the process exit code. Tests call it in-process.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s := streams{out: stdout, err: stderr}
	root := newRoot(s)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "error:", ee.msg)
		}
		return ee.code
	}
	// Anything else comes from cobra's parsing: unknown command or flag.
	fmt.Fprintln(stderr, "error:", err)
	fmt.Fprintln(stderr, "Run 'forge --help' for usage.")
	return ExitUsage
}

func newRoot(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "forge",
		Short: "Catalyst Forge: from a monorepo commit to a deployed release",
		Long: `forge is the command line of Catalyst Forge, an internal developer platform.

A forge repository has a .forge/repo.cue at its root (phases, tagging,
publishers) and a .forge/project.cue in every project directory (CI steps,
artifacts, release triggers, deployment resources), all written in CUE.

Start with:
  forge validate            check every configuration file of the repository
  forge discover            list the projects, their phases and release triggers
  forge init my-service     create the configuration of a new project
  forge render services/x   preview the Kubernetes resources a release would carry
  forge dev run             run the repository's pipeline on this machine

Against the platform API (--server or FORGE_SERVER, token in FORGE_TOKEN):
  forge run list            pipeline runs, newest first
  forge release get PROJECT RELEASE
  forge deploy ENV PROJECT RELEASE`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newValidate(s), newDiscover(s), newRender(s), newInit(s), newVersion(s),
		newRun(s), newRelease(s), newDeploy(s), newRollback(s), newApprove(s), newStatus(s), newRepo(s), newDev(s))
	return root
}

func newVersion(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the forge version and the configuration schema it implements",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(s.out, versionLine())
			return nil
		},
	}
}
