package ports

import (
	"context"
	"io"
	"time"
)

// StepExecutor runs one CI step (an Earthly target or a script) in a
// project directory. Safe for concurrent use.
type StepExecutor interface {
	// Execute runs the step to its end, its timeout, or the cancellation of
	// ctx, and kills the whole process group in the last two cases. A step
	// that ran and failed is not an error: the result carries its exit
	// code. Errors: Validation (an incomplete request), Unavailable (the
	// tool, such as earthly, cannot be started).
	Execute(ctx context.Context, req StepRequest) (StepResult, error)
}

// StepRequest is a step to run.
type StepRequest struct {
	// Action is "earthly" or "script".
	Action string
	// Target and Args are the Earthly target and its arguments.
	Target string
	Args   []string
	// Run and Shell are the script and the shell that runs it ("sh -e"
	// when empty).
	Run   string
	Shell string
	// Dir is the project directory the step runs in.
	Dir string
	// Env holds context variables (FORGE_RUN_ID, FORGE_PROJECT...).
	Env map[string]string
	// Secrets maps environment variable names to resolved secret values.
	// They reach the step only through its environment, never its command
	// line, and are masked in its output.
	Secrets map[string]string
	// Timeout bounds the step; zero means no limit beyond ctx.
	Timeout time.Duration
	// Output receives the step's combined standard output and error.
	Output io.Writer
}

// StepResult is how a step ended.
type StepResult struct {
	// ExitCode is the process's exit code, or -1 when it was killed.
	ExitCode int
	// TimedOut says the step ran past its timeout and was killed.
	TimedOut bool
	// Cancelled says ctx ended first and the step was killed.
	Cancelled bool
	Duration  time.Duration
}

// Succeeded reports whether the step exited 0.
func (r StepResult) Succeeded() bool { return r.ExitCode == 0 && !r.TimedOut && !r.Cancelled }
