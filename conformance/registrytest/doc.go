// Package registrytest is the conformance suite of the ports.Registry
// port: pushing blobs and manifests, reading them back byte for byte,
// digests, tags, indexes, idempotent re-pushes, refusals (content that
// does not match its digest, a manifest naming missing content, bad
// references), not-found answers, cancellation and concurrent use. Every
// registry adapter's tests call Describe with a factory. It is in the
// conformance layer.
package registrytest
