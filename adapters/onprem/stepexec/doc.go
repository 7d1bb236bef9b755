// Package stepexec is the local-process adapter of the StepExecutor port
// (ports.StepExecutor). It is in the adapters/onprem layer and runs both
// step actions on the worker's machine: "script" steps through a shell
// ("sh -e" unless the step names another) and "earthly" steps through the
// earthly CLI, which talks to the remote Earthly runners.
//
// The package owns how a step's process is started, watched and stopped:
//
//   - Environment. A step sees a small base environment (PATH, HOME and
//     LANG taken from the worker; see DefaultEnv and WithEnv), the request's
//     Env and its Secrets, and nothing else, so credentials in the worker's
//     own environment never reach build scripts. The step's binary (the
//     shell or earthly) is looked up on the PATH of that environment, at
//     Execute time.
//   - Secrets. Secret values go only into the environment. An earthly step
//     gets one "--secret NAME" per secret (Earthly then reads the value of
//     the environment variable NAME), never "--secret NAME=value", so no
//     value appears in a command line that `ps` could show.
//   - Output. Standard output and error share one pipe and reach
//     StepRequest.Output through a masking writer that replaces every
//     secret value with "***", including values split across reads. Values
//     shorter than MinMaskedLength bytes are not masked (see there). The
//     last len(longest secret)-1 bytes are held back until more output
//     arrives or the step ends.
//   - Process group. Every step runs in a process group of its own
//     (Setpgid). On timeout or cancellation of ctx the group gets SIGTERM,
//     then SIGKILL after the grace period (WithGracePeriod). When a step
//     ends on its own, whatever it left running in its group is stopped the
//     same way: a step's background processes end with the step, so they
//     can neither outlive it on the worker nor keep its output open.
//     Processes that leave the group (setsid, daemons) escape this; the
//     executor stops waiting for their output shortly after the step ends.
//   - Lifetime. Steps die with their worker: the step's first process
//     gets the parent-death signal (SIGKILL, Linux), started from one
//     goroutine locked to its OS thread for the life of the process,
//     because the kernel sends that signal when the forking thread ends.
//     What the first process started survives it, so with WithStateDir the
//     executor records each running step's group and a token put in its
//     environment (FORGE_STEP_TOKEN), and Sweep, called when the next
//     worker starts, kills the processes a dead worker's steps left. See
//     lifetime.go.
//
// Earthly itself needs BuildKit, which the development machines cannot
// run, so the package's tests drive the earthly action against a stand-in
// executable that records its arguments and environment; the conformance
// suite (conformance/steprunnertest) runs on both actions.
package stepexec
