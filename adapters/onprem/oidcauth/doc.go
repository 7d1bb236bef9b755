// Package oidcauth verifies OpenID Connect bearer tokens and vouches for who
// presented them. It is in the adapters/onprem layer and implements
// ports.TokenVerifier.
//
// It owns two things:
//
//   - Verifier, which checks a JWT issued by an OIDC provider (Keycloak in the
//     on-premises and AWS profiles): the signature (RS256 or ES256 only)
//     against the provider's JWKS, found through OIDC discovery and refreshed
//     when an unknown key ID appears; the issuer, audience, expiry and
//     not-before time with a small clock skew; and Keycloak's realm and client
//     roles, of which only the platform roles of domain/identity are kept.
//
//   - DevIssuer, the development issuer of the local profile: an EC P-256
//     key kept in a file, which signs ES256 tokens that the very same Verifier
//     checks (only the key set differs: a static one instead of a remote
//     JWKS), and which can publish its own discovery document and JWKS so a
//     real OIDC client can use it too.
//
// Every verification failure is a *fault.Error of kind fault.Unauthenticated
// whose message says what was wrong and never contains the token.
package oidcauth
