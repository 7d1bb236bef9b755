package identity

import (
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
)

func TestRequire(t *testing.T) {
	who := func(roles ...Role) *Principal { return &Principal{Subject: "x", Roles: roles} }
	cases := []struct {
		p    *Principal
		perm Permission
		ok   bool
	}{
		{who(RoleDeveloper), PermRead, true},
		{who(RoleDeveloper), PermCreateRun, false},
		{who(RoleServiceAccount), PermCreateRun, true},
		{who(RoleServiceAccount), PermUpdateStatus, true},
		{who(RoleDeveloper), PermCancelRun, true},
		{who(RoleDeveloper), PermRetryRun, true},
		{who(RoleApprover), PermRetryRun, false},
		{who(RoleApprover), PermApprove, true},
		{who(RoleOperator), PermApprove, false},
		{who(RoleOperator), PermRegisterRepository, true},
		{who(RoleDeveloper, RoleApprover), PermApprove, true},
		{who(), PermRead, false},
		{nil, PermRead, false},
	}
	for _, c := range cases {
		err := Require(c.p, c.perm)
		if (err == nil) != c.ok || (err != nil && !fault.Is(err, fault.PermissionDenied)) {
			t.Errorf("Require(%v, %s) = %v, want ok=%v", c.p, c.perm, err, c.ok)
		}
	}
	if !RoleOperator.Valid() || Role("admin").Valid() {
		t.Error("Role.Valid")
	}
}
