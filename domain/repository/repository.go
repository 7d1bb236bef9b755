// Package repository holds the registration of a source repository with
// the platform: its owner/name identity and its per-repository limits. It
// is in the domain layer.
package repository

import (
	"fmt"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Defaults of the per-repository limits (spec 06, constraints).
const (
	DefaultMaxConcurrentRuns = 1000
	DefaultRunsPerMinute     = 100
)

// Repository is a registered repository. Runs can only be created for
// registered repositories.
type Repository struct {
	ID        string    `json:"id"`
	Name      string    `json:"repository"`
	Limits    Limits    `json:"limits"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// Limits are a repository's quotas.
type Limits struct {
	// MaxConcurrentRuns bounds the runs not yet finished.
	MaxConcurrentRuns int `json:"max_concurrent_runs"`
	// RunsPerMinute bounds how often runs can be created.
	RunsPerMinute int `json:"runs_per_minute"`
}

// WithDefaults fills unset limits with the platform's defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxConcurrentRuns == 0 {
		l.MaxConcurrentRuns = DefaultMaxConcurrentRuns
	}
	if l.RunsPerMinute == 0 {
		l.RunsPerMinute = DefaultRunsPerMinute
	}
	return l
}

// MaxLimit bounds each limit: the stores keep limits as 32-bit integers
// (PostgreSQL's integer column refused larger ones, a 500 before this
// check).
const MaxLimit = 1<<31 - 1

// Validate reports limits that make no sense, naming the field.
func (l Limits) Validate() error {
	for _, f := range []struct {
		name  string
		value int
	}{{"limits.max_concurrent_runs", l.MaxConcurrentRuns}, {"limits.runs_per_minute", l.RunsPerMinute}} {
		if f.value < 0 || f.value > MaxLimit {
			return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": f.name},
				Message: fmt.Sprintf("%s must be between 0 (the default) and %d, got %d", f.name, MaxLimit, f.value)}
		}
	}
	return nil
}

// Canonical returns the form in which a repository name is stored and
// compared: its ASCII letters lower-cased, as GitHub, GitLab and Gitea
// treat owner/name case-insensitively. "ACME/Mono" and "acme/mono" are one
// repository. Only ASCII is folded: a name with other letters is refused
// by ValidateName anyway, and folding, say, the Kelvin sign (U+212A) to "k"
// would let such a name through.
func Canonical(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			b := []byte(name)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return name
}

// ValidateName checks a repository name of the form owner/name: an
// owner of 1 to 100 letters, digits, '.', '_' and '-' starting with a
// letter or digit, and a name of 1 to 100 of those not ending in '.'.
// (A hand-written check: the regular expression with counted repeats it
// replaces cost a millisecond and a half to compile at every start.)
func ValidateName(name string) error {
	owner, repo, ok := strings.Cut(name, "/")
	if !ok || !namePart(owner) || !namePart(repo) || !alnum(owner[0]) || repo[len(repo)-1] == '.' {
		return &fault.Error{Kind: fault.Validation, Message: "repository must be owner/name (letters, digits, '.', '_' and '-'), got " + quote(name),
			Details: map[string]any{"field": "repository"}}
	}
	return nil
}

// namePart says whether s is 1 to 100 letters, digits, '.', '_' and '-'.
func namePart(s string) bool {
	if len(s) == 0 || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return `"` + s + `"`
}
