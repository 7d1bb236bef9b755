// Package identity holds who is calling the platform: a principal with a
// subject and roles, as an identity provider (Keycloak, or the development
// issuer) vouches for it. It is in the domain layer.
package identity

import (
	"slices"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Role is a platform role, granted in the identity provider.
type Role string

// The platform roles (spec 01, authorization model).
const (
	RoleDeveloper      Role = "developer"
	RoleApprover       Role = "approver"
	RoleOperator       Role = "operator"
	RoleServiceAccount Role = "service-account"
)

// Roles lists every platform role.
var Roles = []Role{RoleDeveloper, RoleApprover, RoleOperator, RoleServiceAccount}

// Valid reports whether r is a platform role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Principal is an authenticated caller.
type Principal struct {
	// Subject identifies the caller (a user name or a service account).
	Subject string
	// Name is a readable name when the token carries one.
	Name string
	// Roles are the platform roles of the caller; other roles are dropped.
	Roles []Role
	// Repository, when set, is the one repository (owner/name, lower
	// case) the caller may act on: the repository claim of a GitHub
	// Actions token exchanged at the identity provider. Empty: any.
	Repository string
}

// Has reports whether the principal holds role r.
func (p *Principal) Has(r Role) bool { return p != nil && slices.Contains(p.Roles, r) }

// HasAny reports whether the principal holds at least one of roles.
func (p *Principal) HasAny(roles ...Role) bool {
	for _, r := range roles {
		if p.Has(r) {
			return true
		}
	}
	return false
}

// RequireRepository refuses a caller bound to another repository than
// repo (PermissionDenied, naming both); a caller bound to none may act on
// any.
func RequireRepository(who *Principal, repo string) error {
	if who == nil || who.Repository == "" || strings.EqualFold(who.Repository, repo) {
		return nil
	}
	return &fault.Error{Kind: fault.PermissionDenied, Details: map[string]any{"repository": repo, "token_repository": who.Repository},
		Message: "this token may act on repository " + who.Repository + " only, not " + repo}
}
