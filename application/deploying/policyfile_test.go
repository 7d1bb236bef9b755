package deploying

import (
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/release"
)

func TestPolicyFileRoundTrip(t *testing.T) {
	b, err := FormatPolicies(release.DefaultEnvironments(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := ParsePolicies(b)
	if err != nil {
		t.Fatalf("parsing the formatted defaults: %v\n%s", err, b)
	}
	prod := pf.Environments["production"]
	if !prod.RequiresApproval || len(prod.AllowedTriggers) != 2 || pf.ApprovalTTL != 24*time.Hour {
		t.Errorf("production = %+v, ttl %v", prod, pf.ApprovalTTL)
	}
}

func TestParsePolicies(t *testing.T) {
	pf, err := ParsePolicies([]byte(`
approval_ttl: 2h
environments:
  qa:
    promotion_policy:
      allowed_triggers: [branch_push]
      allowed_branches: ["feature/*"]
      auto_deploy: true
`))
	if err != nil {
		t.Fatal(err)
	}
	qa := pf.Environments["qa"]
	if pf.ApprovalTTL != 2*time.Hour || !qa.AutoDeploy || qa.RequiresApproval ||
		len(qa.DeployRoles) != 2 || qa.DeployRoles[0] != identity.RoleOperator {
		t.Errorf("qa = %+v ttl %v", qa, pf.ApprovalTTL)
	}
	for name, bad := range map[string]string{
		"typo":        "environments:\n  dev:\n    promotion_policy:\n      requires_aproval: true\n",
		"bad trigger": "environments:\n  dev:\n    promotion_policy:\n      allowed_triggers: [cron]\n",
		"bad role":    "environments:\n  dev:\n    promotion_policy:\n      deploy_roles: [admin]\n",
		"no policy":   "environments:\n  dev: {}\n",
		"no envs":     "approval_ttl: 1h\n",
		"bad ttl":     "approval_ttl: soon\nenvironments:\n  dev:\n    promotion_policy: {}\n",
		"not yaml":    "environments: [",
	} {
		if _, err := ParsePolicies([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "panic") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
