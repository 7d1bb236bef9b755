// Package gitcache is the persistent git cache of the workers: the adapter
// of the SourceCache port (ports.SourceCache) that drives the git command
// line. It is in the adapters/onprem layer and serves every profile, since
// a worker always needs the source of the commit it builds.
//
// It owns one cache directory:
//
//	<dir>/repos/<owner>/<name>.git   one bare repository per repository
//	<dir>/repos/<owner>/<name>.lock  its lock file; its mtime is the last use
//	<dir>/leases/<workspace>.lock    one lease per live workspace
//	<dir>/trash/                     evicted repositories being deleted
//	<dir>/workspaces/<job>-<random>  the workspaces (WithWorkspaces moves them)
//
// A checkout fetches only the commit it needs (git fetch --no-tags <remote>
// <commit>, falling back to every branch and tag when the server refuses to
// serve an unadvertised commit) and makes the job's workspace a repository
// of its own, detached at the commit, whose objects are the cache's (an
// alternate): a warm checkout copies no history, writes only the tree's
// files and its index, and leaves the cache's repository untouched. A
// commit a Cache has checked out before (in the same repository) needs no
// git command to find: a fresh workspace costs one (git read-tree -u); a
// reused one (WithIdleWorkspaces) at the commit it was at costs none when
// its index and files are provably as git last saw them clean (the index
// git wrote, every file's stat data as it recorded them, nothing else in
// the tree), and otherwise git clean, git status (and read-tree -u when
// the commit differs, the status shows changes, or the index is not the
// one git wrote: then every file is written again).
//
// Concurrency: every operation on a bare repository holds its lock, an
// in-process semaphore plus a flock(2) on its lock file, so several Cache
// values, in one process or several, may share a cache directory. The lock
// covers fetching and taking a workspace's lease, not writing its files
// nor removing them, so the checkouts of one repository run side by side.
// Each live workspace holds a flock on its lease, which names the
// repository it borrows from; New removes the workspaces whose lease
// nobody holds any more (their process crashed).
//
// Eviction: after every checkout, least recently used repositories are
// deleted until the cache fits its size budget (20 GiB unless WithBudget
// says otherwise); a repository with a live workspace (a held lease naming
// it) is never deleted, and gc never drops objects a workspace may borrow.
//
// git runs with a clean environment (no system or user configuration, no
// terminal prompts, no hooks, C locale) in its own process group, which is
// killed when the context ends. Errors are *fault.Error: NotFound when the
// remote does not have the commit, Unavailable when the remote cannot be
// reached or refuses the credentials (or the context ended), Validation for
// a bad request, Internal otherwise with git's message; messages never hold
// the user:password part of a URL.
package gitcache
