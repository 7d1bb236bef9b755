// Package gitopstest is the conformance suite of the GitOps port
// (ports.GitOps). It is in the conformance layer: it imports only ports/,
// domain/, Ginkgo and Gomega (and runs the git command to look at the
// remote), and owns the executable form of the GitOps contract.
//
// An adapter's test package runs it from a Ginkgo suite file, once per
// kind of remote it supports:
//
//	var _ = gitopstest.Describe("go-git over file://", func() (gitopstest.Remote, func()) {
//		url := makeBareRepository()
//		return gitopstest.Remote{URL: url, New: func() ports.GitOps { return open(url) }}, cleanup
//	})
//
// Every spec gets a new, empty remote. Remote.New returns another client
// of it, as another worker would hold: specs that race use several. What
// the remote holds is read back with the git command (a clone of
// Remote.URL), not with the adapter, so an adapter cannot pass by
// agreeing with itself: the file's bytes, one commit per change with its
// message and author, no commit for a change already there, other files
// left as they were, and 20 changes from 5 clients at once all landing,
// each as its own commit.
package gitopstest
