// Package publishing builds one artifact and publishes it (spec 04): its
// producer runs the build into a staging directory, each of its
// publishers puts the result where it belongs (skipping a destination
// that holds the same digest already), and a signed OCI tracking image
// records what was built, from what, and where it went (spec 01,
// Artifact OCI Tracking Images). It is in the application layer: the
// registry, the step executor and secret resolution arrive as ports.
//
// Producers: script ({run, shell?}: a shell script run in the project
// directory that leaves its result in $FORGE_STAGING_DIR) and earthly
// (the artifacts its target saves, copied there). A container is an OCI
// image layout there (a directory "image", or "image.tar" holding one),
// so no Docker daemon is needed; a binary or an archive is the one file
// there.
//
// Publishers: docker (a container artifact to any OCI registry, under
// the tags of the project's publisher configuration, "sha-<commit>" by
// default), github (a binary or archive as an asset of a GitHub
// release), docs (an archive's files into a bucket) and cue (an archive
// holding a CUE module, to an OCI registry as CUE's module registry
// protocol has it).
package publishing
