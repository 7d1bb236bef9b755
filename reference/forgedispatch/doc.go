// Package forgedispatch is the dispatcher that the steps of a run's Argo
// Workflow execute (forge-dispatcher <stage>, see adapters/onprem/argoengine
// and spec 03). Each step runs one stage of the orchestrator
// (application/orchestrating) for one run: it opens the store and the
// NATS job queue, hands the stage's jobs to the workers and waits for
// their results. It is in the reference layer (a composition root);
// reference/cmd/forge-dispatcher parses flags into Options.
//
// # Stages
//
//   - discovery: dispatches the discovery job (once: a retry finds its
//     output) and writes the plan for Argo to read back: the JSON list of
//     phase group numbers to OutDir/phase-groups.json and "true" or
//     "false" to OutDir/release-enabled. A run with no group and no
//     release is completed here, since no later step would do it.
//   - phase-group: runs group --group: every task of it at once. The
//     stage of the last group completes the run when no release follows.
//   - release: builds, publishes and tracks every artifact of the run's
//     release-triggered projects with artifact jobs (all at once), keeps
//     their outcomes in the object store, and completes the run, or fails
//     it naming each artifact and publisher that failed; then each
//     project's release job makes the release and its image, and the new
//     release is deployed, through deployment jobs, to every environment
//     whose policy (Options.Policies, forge-api's file) has auto_deploy
//     and admits its trigger. A failed deployment is reported and kept
//     with the release's outcome; it does not fail the run.
//
// Every stage is safe to run again (an Argo retry, a pod that was
// killed): the run keeps its discovery output and plan, tasks that
// finished keep their outcome, and a task whose job is dispatched again
// gets the result of its first execution from the queue (natsqueue keeps
// results for a while) instead of running twice.
//
// # Exit codes
//
// ExitCode maps Run's error to the process's exit code: 0 when the stage
// is done (or the run had already succeeded); 1 when the run has ended
// failed or cancelled (EndedError), or the stage could not be done (store
// or queue unreachable, interrupted), so the workflow stops there; 2 for
// a wrong command line (UsageError).
package forgedispatch
