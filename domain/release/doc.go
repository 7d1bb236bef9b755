// Package release holds the release side of the domain: the canonical
// repository/project/commit triplet, releases and their aliases, triggers
// and artifacts, deployments, approvals, environment promotion policies,
// and the order in which a release identifier is resolved. It is in the
// domain layer.
package release
