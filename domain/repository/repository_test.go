package repository

import (
	"errors"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
)

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"acme/monorepo", "a/b", "Org-1/repo.name_x", "a/.hidden", strings.Repeat("a", 100) + "/" + strings.Repeat("b", 100)} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "acme", "acme/", "/repo", "a/b/c", "acme/repo.", "ac me/repo", strings.Repeat("a", 101) + "/b", "a/" + strings.Repeat("b", 101), ".acme/repo", "acme/re/po"} {
		if err := ValidateName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLimits(t *testing.T) {
	l := Limits{}.WithDefaults()
	if l.MaxConcurrentRuns != DefaultMaxConcurrentRuns || l.RunsPerMinute != DefaultRunsPerMinute {
		t.Errorf("defaults = %+v", l)
	}
	if (Limits{MaxConcurrentRuns: 5}).WithDefaults().MaxConcurrentRuns != 5 {
		t.Error("a set limit was replaced")
	}
	if (Limits{RunsPerMinute: -1}).Validate() == nil {
		t.Error("negative limit accepted")
	}
	// Above 32 bits PostgreSQL's integer column refused the insert (a 500).
	for _, l := range []Limits{{MaxConcurrentRuns: 1 << 31}, {RunsPerMinute: MaxLimit + 1}} {
		err := l.Validate()
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.Validation || fe.Details["field"] == nil {
			t.Errorf("%+v: %v; want a validation error naming the field", l, err)
		}
	}
	if err := (Limits{MaxConcurrentRuns: MaxLimit, RunsPerMinute: MaxLimit}).Validate(); err != nil {
		t.Errorf("the maximum refused: %v", err)
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"acme/mono": "acme/mono", "ACME/Mono": "acme/mono", "Org-1/Repo.Name_X": "org-1/repo.name_x",
		"acme/\u212aube": "acme/\u212aube", // the Kelvin sign is not folded to k
		"":               "",
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
	if ValidateName(Canonical("acme/\u212aube")) == nil {
		t.Error("a name with the Kelvin sign passed")
	}
}
