// Package packaging builds the Release OCI image of spec 01 (Release OCI
// Images) from a rendered release: a metadata layer saying what the
// release is (number, aliases, trigger, source, the tracking image of each
// artifact, a summary of the resources) and a resources layer holding the
// rendered YAML, at [release-registry]/[repository]/[project]:[commit-sha].
// The image is deterministic: the same commit and inputs give the same
// manifest digest (times come from the commit; tar entries are sorted,
// with fixed owners, modes and times). It is in the application layer.
package packaging
