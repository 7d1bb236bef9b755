package release

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/domain/repository"
)

// The ReleasePointer of spec 01 (GitOps Repository Structure): the file a
// deployment writes to the GitOps repository, which the Argo CD plugin
// reads back.
const (
	PointerAPIVersion = "forge.projectcatalyst.io/v1"
	PointerKind       = "ReleasePointer"
	// PointerFile is the pointer's file name in its directory.
	PointerFile = "release.yaml"
)

// Pointer is a ReleasePointer. Its YAML form (with these field names) is
// exactly spec 01's, plus spec.digest: the release image's manifest
// digest, so that the plugin pulls by digest.
type Pointer struct {
	APIVersion string          `json:"apiVersion" yaml:"apiVersion"`
	Kind       string          `json:"kind" yaml:"kind"`
	Metadata   PointerMetadata `json:"metadata" yaml:"metadata"`
	Spec       PointerSpec     `json:"spec" yaml:"spec"`
}

// PointerMetadata names the project and the environment.
type PointerMetadata struct {
	Name        string `json:"name" yaml:"name"`
	Environment string `json:"environment" yaml:"environment"`
}

// PointerSpec says which release is deployed, by whom and with whose
// approval.
type PointerSpec struct {
	// Release is the release's commit SHA, its canonical identifier.
	Release    string         `json:"release" yaml:"release"`
	Digest     string         `json:"digest" yaml:"digest"`
	Aliases    PointerAliases `json:"aliases" yaml:"aliases"`
	DeployedAt time.Time      `json:"deployedAt" yaml:"deployedAt"`
	DeployedBy string         `json:"deployedBy" yaml:"deployedBy"`
	ApprovedBy string         `json:"approvedBy,omitempty" yaml:"approvedBy,omitempty"`
	ApprovedAt *time.Time     `json:"approvedAt,omitempty" yaml:"approvedAt,omitempty"`
}

// PointerAliases are the release's aliases by kind: its number, and its
// tag or branch alias when it has one.
type PointerAliases struct {
	Numeric int    `json:"numeric" yaml:"numeric"`
	Tag     string `json:"tag,omitempty" yaml:"tag,omitempty"`
	Branch  string `json:"branch,omitempty" yaml:"branch,omitempty"`
}

// PointerPath is where the pointer of a project of a repository (owner/
// name) in an environment lives in the GitOps repository:
// environments/<env>/<owner>/<name>/<project>/release.yaml.
func PointerPath(environment, repo, project string) string {
	return path.Join("environments", environment, repo, project, PointerFile)
}

// ValidProjectName says whether s is a project name (kebab-case).
func ValidProjectName(s string) bool { return config.CheckProjectName(s) == "" }

// ValidEnvironmentName says whether s can name an environment: 1 to 63
// lowercase letters, digits and '-', starting with a letter and not
// ending with '-' (it is a directory of the GitOps repository and part of
// Argo CD application names).
func ValidEnvironmentName(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// NewPointer is the pointer of deploying r to environment, by whom and
// when, with its approval if it needed one.
func NewPointer(r *Release, environment, deployedBy string, deployedAt time.Time, approval *Approval) Pointer {
	p := Pointer{APIVersion: PointerAPIVersion, Kind: PointerKind,
		Metadata: PointerMetadata{Name: r.Project, Environment: environment},
		Spec: PointerSpec{Release: r.CommitSHA, Digest: r.OCIDigest, Aliases: PointerAliases{Numeric: r.Number},
			DeployedAt: deployedAt.UTC().Truncate(time.Second), DeployedBy: deployedBy}}
	for _, a := range r.Aliases {
		switch {
		case a.Type == AliasTag && p.Spec.Aliases.Tag == "":
			p.Spec.Aliases.Tag = a.Alias
		case a.Type == AliasBranch && p.Spec.Aliases.Branch == "":
			p.Spec.Aliases.Branch = a.Alias
		}
	}
	if approval != nil {
		at := approval.ApprovedAt.UTC().Truncate(time.Second)
		p.Spec.ApprovedBy, p.Spec.ApprovedAt = approval.Approver, &at
	}
	return p
}

// Validate checks a pointer read from a GitOps repository, strictly: the
// apiVersion and kind of spec 01, a project name and an environment, a
// release that is a full commit SHA, a sha256 digest, a positive release
// number, who deployed it and when; an approval names both who and when.
// dir, when not empty, is the pointer's directory in the GitOps repository
// (environments/<env>/<owner>/<name>/<project>): its environment and
// project must be the pointer's. Errors: Validation, saying what is wrong.
func (p *Pointer) Validate(dir string) error {
	bad := func(field, format string, args ...any) error {
		return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": field},
			Message: "release pointer: " + field + " " + fmt.Sprintf(format, args...)}
	}
	switch {
	case p.APIVersion != PointerAPIVersion:
		return bad("apiVersion", "must be %s, got %s", PointerAPIVersion, strconv.Quote(p.APIVersion))
	case p.Kind != PointerKind:
		return bad("kind", "must be %s, got %s", PointerKind, strconv.Quote(p.Kind))
	case !ValidProjectName(p.Metadata.Name):
		return bad("metadata.name", "must be a project name, got %s", strconv.Quote(p.Metadata.Name))
	case !ValidEnvironmentName(p.Metadata.Environment):
		return bad("metadata.environment", "must be an environment name, got %s", strconv.Quote(p.Metadata.Environment))
	case ValidateCommitSHA("spec.release", p.Spec.Release) != nil:
		return bad("spec.release", "must be the release's full commit SHA (40 hex digits), got %s", strconv.Quote(p.Spec.Release))
	case p.Spec.Aliases.Numeric <= 0:
		return bad("spec.aliases.numeric", "must be the release number, got %d", p.Spec.Aliases.Numeric)
	case p.Spec.DeployedBy == "" || p.Spec.DeployedAt.IsZero():
		return bad("spec.deployedBy", "and spec.deployedAt must say who deployed it and when")
	case (p.Spec.ApprovedBy == "") != (p.Spec.ApprovedAt == nil):
		return bad("spec.approvedBy", "and spec.approvedAt go together")
	}
	if _, err := oci.ParseDigest(p.Spec.Digest); err != nil || !strings.HasPrefix(p.Spec.Digest, "sha256:") {
		return bad("spec.digest", "must be the release image's sha256 digest, got %s", strconv.Quote(p.Spec.Digest))
	}
	if dir == "" {
		return nil
	}
	env, repo, project, ok := PointerDir(dir)
	switch {
	case !ok:
		return bad("path", "%s is not environments/<env>/<owner>/<name>/<project>", strconv.Quote(dir))
	case env != p.Metadata.Environment:
		return bad("metadata.environment", "is %s but the pointer is under environment %s", p.Metadata.Environment, env)
	case project != p.Metadata.Name:
		return bad("metadata.name", "is %s but the pointer is under project %s of %s", p.Metadata.Name, project, repo)
	}
	return nil
}

// PointerDir splits a pointer's directory in the GitOps repository,
// environments/<env>/<owner>/<name>/<project>, into the environment, the
// repository (owner/name) and the project; ok is false for any other
// path, or one with a part that is not a valid name.
func PointerDir(dir string) (environment, repo, project string, ok bool) {
	if dir != path.Clean(dir) || path.IsAbs(dir) {
		return "", "", "", false
	}
	parts := strings.Split(dir, "/")
	if len(parts) != 5 || parts[0] != "environments" {
		return "", "", "", false
	}
	repo = parts[2] + "/" + parts[3]
	if !ValidEnvironmentName(parts[1]) || repository.ValidateName(repo) != nil || !ValidProjectName(parts[4]) {
		return "", "", "", false
	}
	return parts[1], repo, parts[4], true
}

// DeployMessage is the commit message of a deployment: what was deployed
// where, by whom, with which approval.
func DeployMessage(p Pointer, repo string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Deploy %s to %s: release %d (%s)\n\n", p.Metadata.Name, p.Metadata.Environment, p.Spec.Aliases.Numeric, pointerAlias(p))
	fmt.Fprintf(&b, "Repository: %s\nRelease: %s\nImage digest: %s\nDeployed by: %s\n", repo, p.Spec.Release, p.Spec.Digest, p.Spec.DeployedBy)
	if p.Spec.ApprovedBy != "" {
		fmt.Fprintf(&b, "Approved by: %s at %s\n", p.Spec.ApprovedBy, p.Spec.ApprovedAt.Format(time.RFC3339))
	}
	return b.String()
}

// RollbackMessage is the commit message of a rollback, in spec 05's form:
// "Rollback <project> in <env> to release <n> (<alias>)", the release it
// replaces and who rolled back.
func RollbackMessage(p Pointer, repo string, previous *Pointer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rollback %s in %s to release %d (%s)\n\n", p.Metadata.Name, p.Metadata.Environment, p.Spec.Aliases.Numeric, pointerAlias(p))
	if previous != nil {
		fmt.Fprintf(&b, "Previous release: %d (%s)\n", previous.Spec.Aliases.Numeric, pointerAlias(*previous))
	}
	fmt.Fprintf(&b, "Rolled back by: %s\nRepository: %s\nRelease: %s\nImage digest: %s\n", p.Spec.DeployedBy, repo, p.Spec.Release, p.Spec.Digest)
	if p.Spec.ApprovedBy != "" {
		fmt.Fprintf(&b, "Approved by: %s at %s\n", p.Spec.ApprovedBy, p.Spec.ApprovedAt.Format(time.RFC3339))
	}
	return b.String()
}

// pointerAlias is the alias a message names a release by: its tag, else
// its branch alias, else its number.
func pointerAlias(p Pointer) string {
	switch {
	case p.Spec.Aliases.Tag != "":
		return p.Spec.Aliases.Tag
	case p.Spec.Aliases.Branch != "":
		return p.Spec.Aliases.Branch
	}
	return strconv.Itoa(p.Spec.Aliases.Numeric)
}
