package release

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/repository"
)

// Triplet is the canonical identity of a release: repository/project/commit.
type Triplet struct {
	Repository string // owner/name
	Project    string
	CommitSHA  string
}

// String formats the triplet as owner/name/project/commit.
func (t Triplet) String() string {
	return t.Repository + "/" + t.Project + "/" + t.CommitSHA
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// ValidateCommitSHA checks a full commit SHA: 40 (SHA-1) or 64 (SHA-256)
// lowercase hexadecimal digits.
func ValidateCommitSHA(field, sha string) error {
	if !shaPattern.MatchString(sha) {
		return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": field},
			Message: fmt.Sprintf("%s must be a full commit SHA (40 or 64 lowercase hex digits), got %q", field, sha)}
	}
	return nil
}

// Validate checks every part of the triplet.
func (t Triplet) Validate() error {
	if err := repository.ValidateName(t.Repository); err != nil {
		return err
	}
	if msg := config.CheckProjectName(t.Project); msg != "" {
		return &fault.Error{Kind: fault.Validation, Message: msg, Details: map[string]any{"field": "project"}}
	}
	return ValidateCommitSHA("commit_sha", t.CommitSHA)
}

// ParseTriplet parses owner/name/project/commit.
func ParseTriplet(s string) (Triplet, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 {
		return Triplet{}, fault.New(fault.Validation, "%q is not repository/project/commit-sha (owner/name/project/sha)", s)
	}
	t := Triplet{Repository: parts[0] + "/" + parts[1], Project: parts[2], CommitSHA: parts[3]}
	return t, t.Validate()
}
