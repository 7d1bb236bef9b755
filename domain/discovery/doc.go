// Package discovery holds the rules that turn a repository's configuration
// into a plan for one commit: phase groups, step order, release triggers,
// and the discovery output every pipeline starts from. It is in the domain
// layer and imports only the standard library and domain packages.
package discovery
