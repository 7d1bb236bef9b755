// Package ociregistry implements ports.Registry for any registry speaking
// the OCI Distribution API (Harbor, Docker Registry, ECR's endpoint, GHCR)
// over github.com/google/go-containerregistry's remote client. It is in
// the adapters layer (adapters/onprem); the AWS profile uses it too, with
// ECR's credentials.
//
// Credentials, per registry host, come from Options.Credentials (a
// username and password the caller resolved from a secret reference),
// then a docker config.json (Options.DockerConfig, or the one docker
// itself would read), then none.
//
// Plain HTTP is spoken only to loopback hosts (127.0.0.0/8, ::1,
// localhost) and to hosts listed in Options.Insecure; to every other host
// a request is made over HTTPS even where the client library would fall
// back to HTTP (it does for private addresses), so credentials and
// content never cross a network in the clear by accident.
//
// Blobs are checked against their digests as they are pushed (by the
// registry, which the Distribution API requires to refuse a mismatch)
// and as they are read (by the client library, which fails the read that
// ends with a mismatch); manifests keep the exact bytes
// their builder gave them.
package ociregistry
