// Package resolving turns secret references into values at the point of
// use (spec 01, Secret Management Patterns). Its Registry holds one
// ports.SecretProvider per provider name, picks the provider by a
// reference's provider field, checks the remaining fields against that
// provider's CUE schema (so a misspelt field is an error naming it, not a
// secret silently missing), and only then asks the provider for the
// value. It is in the application layer.
package resolving
