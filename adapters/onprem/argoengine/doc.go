// Package argoengine is the WorkflowEngine (ports.WorkflowEngine) of the
// on-premises profile: each pipeline run becomes one Argo Workflow whose
// steps run the platform's dispatcher (`forge-dispatcher <stage>`), which
// hands the real work to the workers over the job queue, as spec 03
// describes. It is in the adapters layer (adapters/onprem) and owns the
// rendering of a run into an Argo Workflow manifest and the calls to the
// Argo Server's REST API that start and terminate it. It uses only the
// standard library: the manifest is built from its own structs (so its key
// order is stable) and the API is spoken with net/http.
//
// # The workflow
//
// The workflow is named forge-run-<run id> (see WorkflowName), so starting
// the same run twice finds the workflow that exists instead of making a
// second one. Its entrypoint, pipeline, runs three steps one after the
// other:
//
//  1. discovery: the dispatcher runs discovery and writes two files, the
//     JSON list of phase group numbers (/tmp/forge/phase-groups.json) and
//     whether a release follows (/tmp/forge/release-enabled), which Argo
//     reads back as output parameters;
//  2. phase-groups: one dispatcher per group, fanned out with withParam
//     over that list but with parallelism 1, so group n+1 starts only when
//     group n has succeeded;
//  3. release: the release dispatcher, only when discovery said so.
//
// Every step uses the one container template, dispatch, whose arguments
// are the stage, the run ID and a group (empty outside phase groups, which
// the dispatcher ignores). Its environment is FORGE_RUN_ID, the plain
// values of Config.Env and, when Config.EnvFromSecret names one, every
// key of that Kubernetes Secret (envFrom): the database and NATS URLs
// with their credentials go there, so they never sit in the workflow.
// The spec's limits apply: at most 100 pods at a time, 24 hours at most,
// pods deleted as they complete, and the dispatcher's small resource
// requests and limits.
//
// # Errors
//
// The Argo Server's answers become fault kinds at this boundary: a refused
// token (401, 403), a server error (5xx), too many requests (429) or a
// network failure is Unavailable; any other 4xx is Validation, with the
// server's message. The bearer token never appears in an error.
package argoengine
