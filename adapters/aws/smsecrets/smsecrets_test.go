package smsecrets_test

import (
	"context"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/adapters/aws/smsecrets"
	"github.com/catalyst-forge/forge/domain/fault"
)

// TestRegionsAndRefusals, against the Secrets Manager protocol stand-in:
// a reference's region signs its request for that region, access denied
// is PermissionDenied, and secretName with its alias path is refused.
func TestRegionsAndRefusals(t *testing.T) {
	sm := newStandIn()
	defer sm.srv.Close()
	p, err := smsecrets.New(context.Background(), smsecrets.Config{Region: "eu-west-1", Endpoint: sm.srv.URL, AccessKeyID: "AKIDTEST", SecretAccessKey: "x", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	name := sm.put("v")
	ctx := context.Background()
	if _, err := p.Resolve(ctx, map[string]any{"secretName": name, "region": "us-east-2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Resolve(ctx, map[string]any{"secretName": name}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sm.regions, ","); got != "us-east-2,eu-west-1" {
		t.Errorf("requests signed for %s", got)
	}
	for _, c := range []struct {
		cfg  map[string]any
		kind fault.Kind
		want string
	}{
		{map[string]any{"secretName": "denied/prod"}, fault.PermissionDenied, "aws secret denied/prod: this worker may not read it (AccessDeniedException)"},
		{map[string]any{"secretName": name, "path": name}, fault.Validation, "not both"},
		{map[string]any{"secretName": name, "version": "2"}, fault.Validation, "field version is not allowed"},
		{map[string]any{"secretName": name, "key": "k"}, fault.Validation, "not a JSON object"},
	} {
		_, err := p.Resolve(ctx, c.cfg)
		if !fault.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %s %q", c.cfg, err, c.kind, c.want)
		}
	}
}

func TestNoRegionSaysWhereToSetOne(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	p, err := smsecrets.New(context.Background(), smsecrets.Config{AccessKeyID: "AKIDTEST", SecretAccessKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Resolve(context.Background(), map[string]any{"secretName": "ci/x"})
	if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "no region") {
		t.Errorf("error = %v", err)
	}
}
