// Package forgeapi is the composition root of the API server: it reads
// options, opens the store, builds the token verifier, the application
// services and the HTTP transport, and serves until its context ends. It
// is in the reference layer; reference/cmd/forge-api parses flags into
// Options and runs an App.
package forgeapi
