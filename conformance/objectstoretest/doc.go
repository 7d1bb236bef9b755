// Package objectstoretest is the conformance suite of the ObjectStore port
// (ports.ObjectStore). It is in the conformance layer: it imports only
// ports/, domain/, Ginkgo and Gomega, and owns the executable form of the
// ObjectStore contract — what every adapter of the port must do, whatever
// keeps the bytes (a directory, Amazon S3, an S3-compatible server).
//
// An adapter's test package runs it from a Ginkgo suite file:
//
//	func TestFSBlob(t *testing.T) {
//		RegisterFailHandler(Fail)
//		RunSpecs(t, "fsblob")
//	}
//
//	var _ = objectstoretest.Describe("fsblob", func() (ports.ObjectStore, func()) {
//		s := openInTempDir()
//		return s, func() { removeTempDir() }
//	})
//
// Every spec gets a new, empty store from the factory, so specs never see
// each other's objects. The specs of PresignGet download the links with a
// plain http.Client and no credentials, so the factory of an adapter whose
// links point at its own handler (fsblob) must also serve that handler
// for as long as the spec runs.
//
// What the suite checks beyond the happy paths: content is compared byte
// for byte (binary, empty and multi-megabyte objects, written through a
// reader that hides its length); key validation answers Validation from
// every method; List is checked in byte-wise key order across prefixes
// that do and do not end at a slash, with exclusive `after` paging; writers
// racing on one key leave exactly one writer's content and content type,
// readers racing a slow writer see the old or the new object whole, and a
// Put whose reader fails leaves the old object in place; signed links
// download without credentials, stop working after their ttl and cannot be
// pointed at another key.
//
// Some S3-compatible servers keep objects as files (versitygw's POSIX
// backend, MinIO) and cannot hold an object "a/b" and an object "a/b/c" at
// the same time. The specs that need both are grouped under "nested keys";
// a runner for such a server passes NestedKeysMayConflict with the reason:
// the specs still run, and are reported as skipped, with the server's
// error, only when the store refuses with Conflict.
package objectstoretest
