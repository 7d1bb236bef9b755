// Package repository holds the registration of a source repository with
// the platform: its owner/name identity and its per-repository limits. It
// is in the domain layer.
package repository

import (
	"fmt"
	"regexp"
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

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}/[A-Za-z0-9_.-]{1,100}$`)

// ValidateName checks a repository name of the form owner/name.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) || name[len(name)-1] == '.' {
		return &fault.Error{Kind: fault.Validation, Message: "repository must be owner/name (letters, digits, '.', '_' and '-'), got " + quote(name),
			Details: map[string]any{"field": "repository"}}
	}
	return nil
}

func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return `"` + s + `"`
}
