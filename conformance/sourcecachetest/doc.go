// Package sourcecachetest is the conformance suite of the SourceCache port
// (ports.SourceCache). It is in the conformance layer: it imports only the
// standard library, ports/, domain/, Ginkgo and Gomega, and owns the
// executable form of the SourceCache contract — what every adapter of the
// port must do, however it keeps its cache.
//
// An adapter's test package runs it from a Ginkgo suite file:
//
//	func TestGitcache(t *testing.T) {
//		RegisterFailHandler(Fail)
//		RunSpecs(t, "gitcache")
//	}
//
//	var _ = sourcecachetest.Describe("gitcache", func(workdir string) (ports.SourceCache, func()) {
//		c, err := gitcache.New(workdir)
//		Expect(err).NotTo(HaveOccurred())
//		return c, nil
//	})
//
// Every spec gets a new cache from the factory, on an empty directory of
// its own. The suite builds real git repositories with the git binary
// (without the user's or the system's configuration, with a fixed author
// and committer) in temporary directories and serves them as file://
// remotes, so the machine running it needs git and nothing else. It checks
// what a job sees (the files of the commit, a real git checkout at it),
// cache hits and misses, concurrent checkouts of one repository, fetching a
// commit pushed after the first checkout, the error kinds of the port and
// the removal of workspaces.
package sourcecachetest
