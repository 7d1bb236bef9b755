package deploying

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/release"
)

// PolicyFile is the platform-level configuration of environments (spec
// 05), read from YAML:
//
//	approval_ttl: 24h
//	environments:
//	  production:
//	    promotion_policy:
//	      allowed_triggers: [tag, manual]
//	      allowed_branches: [main]
//	      auto_deploy: false
//	      requires_approval: true
//	      deploy_roles: [developer, operator]
type PolicyFile struct {
	Environments release.Environments
	ApprovalTTL  time.Duration
}

// defaultDeployRoles applies when a policy names no deploy_roles: the
// platform's own operators and automation, never everyone by accident.
var defaultDeployRoles = []identity.Role{identity.RoleOperator, identity.RoleServiceAccount}

// LoadPolicies reads the policy file at path; an empty path gives the
// spec's default environments (dev, staging, production). forge-api and
// forge-dispatcher must load the same file, since both deploy.
func LoadPolicies(path string) (*PolicyFile, error) {
	if path == "" {
		return &PolicyFile{Environments: release.DefaultEnvironments(), ApprovalTTL: release.DefaultApprovalTTL}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fault.Wrap(fault.Validation, err, "reading the policy file")
	}
	pf, err := ParsePolicies(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pf, nil
}

// ParsePolicies reads a policy file. Unknown fields are errors, so a typo
// does not silently loosen a policy.
func ParsePolicies(data []byte) (*PolicyFile, error) {
	var raw struct {
		ApprovalTTL  string `yaml:"approval_ttl"`
		Environments map[string]struct {
			PromotionPolicy *release.Policy `yaml:"promotion_policy"`
		} `yaml:"environments"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, fault.Wrap(fault.Validation, err, "reading the policy file")
	}
	out := &PolicyFile{Environments: release.Environments{}, ApprovalTTL: release.DefaultApprovalTTL}
	if raw.ApprovalTTL != "" {
		d, err := time.ParseDuration(raw.ApprovalTTL)
		if err != nil || d <= 0 {
			return nil, fault.New(fault.Validation, "approval_ttl %q is not a positive duration (e.g. 24h)", raw.ApprovalTTL)
		}
		out.ApprovalTTL = d
	}
	if len(raw.Environments) == 0 {
		return nil, fault.New(fault.Validation, "the policy file defines no environments")
	}
	for name, env := range raw.Environments {
		if env.PromotionPolicy == nil {
			return nil, fault.New(fault.Validation, "environment %s has no promotion_policy", name)
		}
		p := *env.PromotionPolicy
		if len(p.DeployRoles) == 0 {
			p.DeployRoles = defaultDeployRoles
		}
		out.Environments[name] = p
	}
	if err := out.Environments.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// FormatPolicies writes environments in the policy file's format, so that
// the defaults can be printed and edited.
func FormatPolicies(envs release.Environments, ttl time.Duration) ([]byte, error) {
	type env struct {
		PromotionPolicy release.Policy `yaml:"promotion_policy"`
	}
	doc := struct {
		ApprovalTTL  string         `yaml:"approval_ttl"`
		Environments map[string]env `yaml:"environments"`
	}{ApprovalTTL: ttl.String(), Environments: map[string]env{}}
	for name, p := range envs {
		doc.Environments[name] = env{p}
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding policies: %w", err)
	}
	return b, nil
}
