// Package forgedev runs the whole platform in one process on embedded
// defaults, for one machine: SQLite, an embedded NATS JetStream server,
// the filesystem object store, the git cache, the script and Earthly step
// executors, in-process workers and the orchestrator. `forge dev run`
// uses it to push one commit of a local repository through a real
// pipeline. It is in the reference layer (a composition root).
package forgedev
