// Package discovering is the use case that reads a repository checkout:
// it finds every project under the root `.forge/repo.cue`, loads and checks
// each configuration, and builds the discovery output a pipeline starts
// from. It is in the application layer; the checkout arrives as an fs.FS
// (Service), or as a directory that Isolated discovers in a child process
// bounded in time and memory (the child is the caller's binary, which
// calls ServeChild).
package discovering
