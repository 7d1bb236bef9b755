// Package secretprovidertest is the conformance suite of the
// ports.SecretProvider port: resolution, a missing secret, a missing key,
// fields the provider refuses, cancellation, concurrent use, and that no
// error ever holds a secret value. Every provider adapter's tests call
// Describe with a factory. It is in the conformance layer.
package secretprovidertest
