package identity

import (
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Permission is an operation of the platform API that needs a role.
// Deployments are not listed: each environment's policy names its roles.
type Permission string

// The permissions of the API (docs/authorization.md has the matrix).
const (
	PermRead               Permission = "read"
	PermCreateRun          Permission = "create-run"
	PermUpdateStatus       Permission = "update-status"
	PermCancelRun          Permission = "cancel-run"
	PermRetryRun           Permission = "retry-run"
	PermCreateRelease      Permission = "create-release"
	PermApprove            Permission = "approve"
	PermRegisterRepository Permission = "register-repository"
)

// matrix lists the roles that hold each permission.
var matrix = map[Permission][]Role{
	PermRead:         {RoleDeveloper, RoleApprover, RoleOperator, RoleServiceAccount},
	PermCreateRun:    {RoleServiceAccount},
	PermUpdateStatus: {RoleServiceAccount},
	PermCancelRun:    {RoleDeveloper, RoleApprover, RoleOperator, RoleServiceAccount},
	// A retry re-runs the release stage the run was entitled to: the
	// developer who fixed a publisher's registry retries it.
	PermRetryRun:           {RoleDeveloper, RoleOperator, RoleServiceAccount},
	PermCreateRelease:      {RoleServiceAccount},
	PermApprove:            {RoleApprover},
	PermRegisterRepository: {RoleOperator},
}

// RolesFor returns the roles that hold a permission.
func RolesFor(p Permission) []Role { return matrix[p] }

// Require returns nil when the principal holds a role with permission p,
// and a PermissionDenied error naming the roles that would do otherwise.
func Require(who *Principal, p Permission) error {
	roles := matrix[p]
	if who.HasAny(roles...) {
		return nil
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return &fault.Error{Kind: fault.PermissionDenied,
		Message: string(p) + " needs one of the roles " + strings.Join(names, ", "),
		Details: map[string]any{"permission": string(p), "roles": names}}
}
