package release

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
)

// Policy is an environment's promotion policy (spec 05): which releases
// may be deployed there, by whom, and whether an approval is needed.
type Policy struct {
	// AllowedTriggers lists the release trigger types accepted.
	AllowedTriggers []TriggerType `json:"allowed_triggers" yaml:"allowed_triggers"`
	// AllowedBranches lists branch patterns ("*", "main", "release/*",
	// matched like shell globs where * does not cross "/"). Only branch_push
	// releases are checked against them; tag and manual releases are not.
	AllowedBranches []string `json:"allowed_branches" yaml:"allowed_branches"`
	// AutoDeploy says whether the pipeline deploys new releases itself.
	AutoDeploy bool `json:"auto_deploy" yaml:"auto_deploy"`
	// RequiresApproval says whether a deployment needs an active approval
	// of the release for the environment.
	RequiresApproval bool `json:"requires_approval" yaml:"requires_approval"`
	// DeployRoles lists the roles that may request deployments.
	DeployRoles []identity.Role `json:"deploy_roles" yaml:"deploy_roles"`
}

// Environments maps environment names to their policies.
type Environments map[string]Policy

// DefaultEnvironments returns the spec's dev, staging and production
// policies. Developers deploy to dev and staging; production takes a tag or
// manual release from main, an approval, and a developer or operator.
func DefaultEnvironments() Environments {
	return Environments{
		"dev": {
			AllowedTriggers: []TriggerType{TriggerBranchPush, TriggerTag, TriggerManual},
			AllowedBranches: []string{"*"},
			AutoDeploy:      true,
			DeployRoles:     []identity.Role{identity.RoleDeveloper, identity.RoleApprover, identity.RoleOperator, identity.RoleServiceAccount},
		},
		"staging": {
			AllowedTriggers: []TriggerType{TriggerBranchPush, TriggerTag, TriggerManual},
			AllowedBranches: []string{"main", "release/*"},
			DeployRoles:     []identity.Role{identity.RoleDeveloper, identity.RoleOperator, identity.RoleServiceAccount},
		},
		"production": {
			AllowedTriggers:  []TriggerType{TriggerTag, TriggerManual},
			AllowedBranches:  []string{"main"},
			RequiresApproval: true,
			DeployRoles:      []identity.Role{identity.RoleDeveloper, identity.RoleOperator},
		},
	}
}

// Names returns the environment names, sorted.
func (e Environments) Names() []string {
	names := make([]string, 0, len(e))
	for n := range e {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validate checks every policy: known trigger types and roles, valid
// branch patterns.
func (e Environments) Validate() error {
	for _, name := range e.Names() {
		p := e[name]
		if !ValidEnvironmentName(name) {
			return fault.New(fault.Validation, "environment %q: a name is 1 to 63 lowercase letters, digits and '-', starting with a letter", name)
		}
		for _, t := range p.AllowedTriggers {
			if !t.Valid() {
				return fault.New(fault.Validation, "environment %s: unknown trigger %q (use branch_push, tag or manual)", name, t)
			}
		}
		for _, b := range p.AllowedBranches {
			if _, err := path.Match(b, ""); err != nil {
				return fault.New(fault.Validation, "environment %s: bad branch pattern %q", name, b)
			}
		}
		for _, r := range p.DeployRoles {
			if !r.Valid() {
				return fault.New(fault.Validation, "environment %s: unknown role %q", name, r)
			}
		}
	}
	return nil
}

// Policy returns the policy of an environment, or NotFound naming the
// environments there are.
func (e Environments) Policy(env string) (Policy, error) {
	p, ok := e[env]
	if !ok {
		return Policy{}, &fault.Error{Kind: fault.NotFound,
			Message: fmt.Sprintf("unknown environment %q (environments: %s)", env, strings.Join(e.Names(), ", ")),
			Details: map[string]any{"environment": env}}
	}
	return p, nil
}

// CheckRelease says whether a release with trigger t may be deployed
// under p. A refusal is PermissionDenied naming the rule and the values.
func (p Policy) CheckRelease(env string, t *Trigger) error {
	if t == nil {
		return &fault.Error{Kind: fault.PermissionDenied, Message: fmt.Sprintf("the release has no trigger record, so the %s policy cannot be checked", env),
			Details: map[string]any{"rule": "allowed_triggers"}}
	}
	if !slices.Contains(p.AllowedTriggers, t.Type) {
		return &fault.Error{Kind: fault.PermissionDenied,
			Message: fmt.Sprintf("environment %s does not accept releases triggered by %s (allowed_triggers: %s)", env, t.Type, joinTriggers(p.AllowedTriggers)),
			Details: map[string]any{"rule": "allowed_triggers", "allowed": p.AllowedTriggers, "actual": t.Type}}
	}
	if t.Type == TriggerBranchPush && !BranchAllowed(p.AllowedBranches, t.Branch) {
		return &fault.Error{Kind: fault.PermissionDenied,
			Message: fmt.Sprintf("environment %s does not accept releases from branch %s (allowed_branches: %s)", env, t.Branch, strings.Join(p.AllowedBranches, ", ")),
			Details: map[string]any{"rule": "allowed_branches", "allowed": p.AllowedBranches, "actual": t.Branch}}
	}
	return nil
}

// CheckDeployer says whether the caller may request a deployment under p.
func (p Policy) CheckDeployer(env string, who *identity.Principal) error {
	if who.HasAny(p.DeployRoles...) {
		return nil
	}
	roles := make([]string, len(p.DeployRoles))
	for i, r := range p.DeployRoles {
		roles[i] = string(r)
	}
	return &fault.Error{Kind: fault.PermissionDenied,
		Message: fmt.Sprintf("deploying to %s needs one of the roles %s", env, strings.Join(roles, ", ")),
		Details: map[string]any{"rule": "deploy_roles", "allowed": roles}}
}

// BranchAllowed reports whether branch matches one of the patterns.
func BranchAllowed(patterns []string, branch string) bool {
	for _, p := range patterns {
		if p == "*" {
			return true
		}
		if ok, err := path.Match(p, branch); err == nil && ok {
			return true
		}
	}
	return false
}

func joinTriggers(ts []TriggerType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
