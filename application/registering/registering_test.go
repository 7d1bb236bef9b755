package registering_test

import (
	"context"
	"testing"

	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/application/registering"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

func TestRegister(t *testing.T) {
	svc := &registering.Service{Store: memstore.New()}
	ctx := context.Background()
	op := &identity.Principal{Subject: "ops", Roles: []identity.Role{identity.RoleOperator}}
	dev := &identity.Principal{Subject: "alice", Roles: []identity.Role{identity.RoleDeveloper}}
	if _, _, err := svc.Register(ctx, dev, "acme/mono", repository.Limits{}); !fault.Is(err, fault.PermissionDenied) {
		t.Errorf("developer registering = %v", err)
	}
	r, created, err := svc.Register(ctx, op, "acme/mono", repository.Limits{RunsPerMinute: 5})
	if err != nil || !created || r.Limits.RunsPerMinute != 5 || r.Limits.MaxConcurrentRuns != repository.DefaultMaxConcurrentRuns || r.CreatedBy != "ops" {
		t.Fatalf("register = %+v, %v, %v", r, created, err)
	}
	again, created, err := svc.Register(ctx, op, "acme/mono", repository.Limits{})
	if err != nil || created || again.ID != r.ID {
		t.Fatalf("again = %+v, %v, %v", again, created, err)
	}
	for _, bad := range []string{"mono", "acme/mono/x"} {
		if _, _, err := svc.Register(ctx, op, bad, repository.Limits{}); !fault.Is(err, fault.Validation) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, _, err := svc.Register(ctx, op, "acme/x", repository.Limits{RunsPerMinute: -1}); !fault.Is(err, fault.Validation) {
		t.Errorf("negative limit: %v", err)
	}
	list, total, err := svc.List(ctx, dev, ports.Page{})
	if err != nil || total != 1 || list[0].Name != "acme/mono" {
		t.Errorf("list = %+v %d %v", list, total, err)
	}
	if _, err := svc.Get(ctx, dev, "acme/none"); !fault.Is(err, fault.NotFound) {
		t.Errorf("get unknown = %v", err)
	}
}

// TestNamesIgnoreCase checks that ACME/Mono and acme/mono are one
// repository, stored lower-case, for callers of the library too.
func TestNamesIgnoreCase(t *testing.T) {
	svc := &registering.Service{Store: memstore.New()}
	ctx := context.Background()
	op := &identity.Principal{Subject: "ops", Roles: []identity.Role{identity.RoleOperator}}
	r, created, err := svc.Register(ctx, op, "ACME/Mono", repository.Limits{})
	if err != nil || !created || r.Name != "acme/mono" {
		t.Fatalf("register ACME/Mono = %+v, %v, %v", r, created, err)
	}
	again, created, err := svc.Register(ctx, op, "acme/MONO", repository.Limits{})
	if err != nil || created || again.ID != r.ID {
		t.Fatalf("register acme/MONO = %+v, %v, %v; want the registration of ACME/Mono", again, created, err)
	}
	if got, err := svc.Get(ctx, op, "Acme/mono"); err != nil || got.ID != r.ID {
		t.Errorf("get Acme/mono = %+v, %v", got, err)
	}
}
