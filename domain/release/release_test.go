package release

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
)

const shaA = "0123456789abcdef0123456789abcdef01234567"

func TestTriplet(t *testing.T) {
	tr, err := ParseTriplet("acme/monorepo/auth-service/" + shaA)
	if err != nil || tr.Repository != "acme/monorepo" || tr.Project != "auth-service" || tr.CommitSHA != shaA {
		t.Fatalf("ParseTriplet = %+v, %v", tr, err)
	}
	if tr.String() != "acme/monorepo/auth-service/"+shaA {
		t.Errorf("String = %s", tr)
	}
	for _, bad := range []string{
		"acme/auth-service/" + shaA,                   // three parts
		"acme/monorepo/Auth/" + shaA,                  // project not kebab-case
		"acme/monorepo/auth/abc123",                   // short sha
		"acme/monorepo/auth/" + strings.ToUpper(shaA), // upper-case sha
		"/monorepo/auth/" + shaA,                      // empty owner
	} {
		if _, err := ParseTriplet(bad); !fault.Is(err, fault.Validation) {
			t.Errorf("ParseTriplet(%q) = %v, want a validation error", bad, err)
		}
	}
	if err := ValidateCommitSHA("commit_sha", strings.Repeat("a", 64)); err != nil {
		t.Errorf("SHA-256 commit refused: %v", err)
	}
}

type fakeFinder struct {
	aliases map[string]*Release
	numbers map[int]*Release
	all     []*Release
}

// ByAlias returns the releases in aliases and those in all that list a.
func (f fakeFinder) ByAlias(_ context.Context, a string) ([]*Release, error) {
	var out []*Release
	if r, ok := f.aliases[a]; ok {
		out = append(out, r)
	}
	for _, r := range f.all {
		for _, al := range r.Aliases {
			if al.Alias == a {
				out = append(out, r)
			}
		}
	}
	if len(out) == 0 {
		return nil, fault.New(fault.NotFound, "no alias")
	}
	return out, nil
}

func (f fakeFinder) ByNumber(_ context.Context, n int) (*Release, error) {
	if r, ok := f.numbers[n]; ok {
		return r, nil
	}
	return nil, fault.New(fault.NotFound, "no number")
}

func (f fakeFinder) BySHAPrefix(_ context.Context, p string) ([]*Release, error) {
	var out []*Release
	for _, r := range f.all {
		if strings.HasPrefix(r.CommitSHA, p) {
			out = append(out, r)
		}
	}
	return out, nil
}

func TestResolveOrder(t *testing.T) {
	r1 := &Release{Number: 1, CommitSHA: "aaaaaaa1" + strings.Repeat("0", 32)}
	r2 := &Release{Number: 2, CommitSHA: "aaaaaaa2" + strings.Repeat("0", 32)}
	r3 := &Release{Number: 3, CommitSHA: "bbbbbbbb" + strings.Repeat("0", 32)}
	f := fakeFinder{
		aliases: map[string]*Release{"v1.0.0": r1, "2": r3}, // a custom alias "2" beats number 2
		numbers: map[int]*Release{1: r1, 2: r2, 3: r3},
		all:     []*Release{r1, r2, r3},
	}
	cases := []struct {
		id   string
		want *Release
		kind fault.Kind
	}{
		{"v1.0.0", r1, ""},
		{"2", r3, ""}, // exact alias first
		{"3", r3, ""},
		{"bbbbbbb", r3, ""},
		{"aaaaaaa1", r1, ""},
		{"aaaaaaa", nil, fault.Conflict}, // ambiguous prefix
		{"bbbbbb", nil, fault.NotFound},  // too short for a prefix
		{"03", nil, fault.NotFound},      // not a canonical number
		{"cccccccc", nil, fault.NotFound},
		{"nope", nil, fault.NotFound},
	}
	for _, c := range cases {
		got, err := Resolve(context.Background(), f, c.id)
		if fault.KindOf(err) != c.kind || got != c.want {
			t.Errorf("Resolve(%q) = %v, %v; want %v, kind %q", c.id, got, err, c.want, c.kind)
		}
	}
	_, err := Resolve(context.Background(), f, "aaaaaaa")
	var fe *fault.Error
	if !asFault(err, &fe) || len(fe.Details["candidates"].([]string)) != 2 {
		t.Errorf("ambiguous prefix error = %#v, want two candidates", err)
	}
}

// TestResolveAliasKinds checks that an alias several releases have, each
// as another kind, resolves by AliasPrecedence whatever order the finder
// returns them in: tag before branch before custom.
func TestResolveAliasKinds(t *testing.T) {
	tag := &Release{Number: 1, CommitSHA: "a" + strings.Repeat("0", 39), Aliases: []Alias{NumericAlias(1), {Alias: "main-3", Type: AliasTag}}}
	custom := &Release{Number: 2, CommitSHA: "b" + strings.Repeat("0", 39), Aliases: []Alias{NumericAlias(2), {Alias: "main-3", Type: AliasCustom}, {Alias: "hot", Type: AliasCustom}}}
	branch := &Release{Number: 3, CommitSHA: "c" + strings.Repeat("0", 39), Aliases: []Alias{NumericAlias(3), BranchAlias("main", 3), {Alias: "hot", Type: AliasTag}}}
	for _, order := range [][]*Release{{tag, custom, branch}, {branch, custom, tag}, {custom, branch, tag}} {
		f := fakeFinder{numbers: map[int]*Release{1: tag, 2: custom, 3: branch}, all: order}
		for id, want := range map[string]*Release{"main-3": tag, "hot": branch, "3": branch, "2": custom} {
			if got, err := Resolve(context.Background(), f, id); err != nil || got != want {
				t.Errorf("Resolve(%q) over %d,%d,%d = release %v, %v; want %d", id, order[0].Number, order[1].Number, order[2].Number, got, err, want.Number)
			}
		}
	}
	f := fakeFinder{all: []*Release{custom, branch}}
	if got, _ := Resolve(context.Background(), f, "main-3"); got != branch {
		t.Errorf("branch alias main-3 lost to a custom alias: %v", got)
	}
}

func asFault(err error, fe **fault.Error) bool {
	e, ok := err.(*fault.Error)
	*fe = e
	return ok
}

func TestDeploymentAndApprovalTransitions(t *testing.T) {
	ok := [][2]DeploymentStatus{{DeploymentPending, DeploymentActive}, {DeploymentActive, DeploymentSuperseded}, {DeploymentPending, DeploymentSuperseded}, {DeploymentActive, DeploymentActive}}
	for _, c := range ok {
		if err := DeploymentTransition(c[0], c[1]); err != nil {
			t.Errorf("%s → %s: %v", c[0], c[1], err)
		}
	}
	for _, c := range [][2]DeploymentStatus{{DeploymentSuperseded, DeploymentActive}, {DeploymentActive, DeploymentPending}} {
		if err := DeploymentTransition(c[0], c[1]); !fault.Is(err, fault.Conflict) {
			t.Errorf("%s → %s = %v, want conflict", c[0], c[1], err)
		}
	}
	if err := ApprovalTransition(ApprovalActive, ApprovalRevoked); err != nil {
		t.Error(err)
	}
	if err := ApprovalTransition(ApprovalRevoked, ApprovalActive); !fault.Is(err, fault.Conflict) {
		t.Errorf("revoked → active = %v", err)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	exp := now.Add(time.Hour)
	a := &Approval{Status: ApprovalActive, ExpiresAt: &exp}
	if a.StatusAt(now) != ApprovalActive || a.StatusAt(exp) != ApprovalExpired || a.StatusAt(exp.Add(time.Second)) != ApprovalExpired {
		t.Error("StatusAt does not expire at ExpiresAt")
	}
	a.Status = ApprovalRevoked
	if a.StatusAt(now) != ApprovalRevoked {
		t.Error("revoked approval not revoked")
	}
}

func TestPolicies(t *testing.T) {
	envs := DefaultEnvironments()
	if err := envs.Validate(); err != nil {
		t.Fatal(err)
	}
	prod, _ := envs.Policy("production")
	staging, _ := envs.Policy("staging")
	dev, _ := envs.Policy("dev")
	cases := []struct {
		name string
		p    Policy
		env  string
		t    *Trigger
		want string // substring of the refusal, "" when allowed
	}{
		{"dev takes any branch push", dev, "dev", &Trigger{Type: TriggerBranchPush, Branch: "feature/x"}, ""},
		{"staging takes release branches", staging, "staging", &Trigger{Type: TriggerBranchPush, Branch: "release/1.2"}, ""},
		{"staging refuses feature branches", staging, "staging", &Trigger{Type: TriggerBranchPush, Branch: "feature/x"}, "does not accept releases from branch feature/x (allowed_branches: main, release/*)"},
		{"release/* does not cross a slash", staging, "staging", &Trigger{Type: TriggerBranchPush, Branch: "release/1/2"}, "allowed_branches"},
		{"production refuses branch pushes", prod, "production", &Trigger{Type: TriggerBranchPush, Branch: "main"}, "does not accept releases triggered by branch_push (allowed_triggers: tag, manual)"},
		{"production takes tags", prod, "production", &Trigger{Type: TriggerTag, Tag: "api/v1.0.0"}, ""},
		{"no trigger", prod, "production", nil, "no trigger record"},
	}
	for _, c := range cases {
		err := c.p.CheckRelease(c.env, c.t)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (!fault.Is(err, fault.PermissionDenied) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want permission denied with %q", c.name, err, c.want)
		}
	}
	dev1 := &identity.Principal{Subject: "alice", Roles: []identity.Role{identity.RoleDeveloper}}
	approver := &identity.Principal{Subject: "bob", Roles: []identity.Role{identity.RoleApprover}}
	if err := dev.CheckDeployer("dev", dev1); err != nil {
		t.Error(err)
	}
	if err := prod.CheckDeployer("production", approver); !fault.Is(err, fault.PermissionDenied) {
		t.Errorf("approver deploying to production = %v", err)
	}
	if _, err := envs.Policy("qa"); !fault.Is(err, fault.NotFound) || !strings.Contains(err.Error(), "dev, production, staging") {
		t.Errorf("unknown environment = %v", err)
	}
	bad := Environments{"x": {AllowedTriggers: []TriggerType{"cron"}}}
	if err := bad.Validate(); !fault.Is(err, fault.Validation) {
		t.Errorf("bad trigger accepted: %v", err)
	}
}

func TestAliases(t *testing.T) {
	if a := BranchAlias("release/2.0", 7); a.Alias != "release-2.0-7" || ValidateAlias(a) != nil {
		t.Errorf("BranchAlias = %+v (%v)", a, ValidateAlias(a))
	}
	if err := ValidateAlias(NumericAlias(12)); err != nil {
		t.Errorf("numeric alias refused: %v", err)
	}
	for _, bad := range []Alias{{Alias: "", Type: AliasCustom}, {Alias: "12", Type: AliasCustom}, {Alias: "a/b", Type: AliasTag},
		{Alias: "a b", Type: AliasTag}, {Alias: strings.Repeat("x", 129), Type: AliasCustom}, {Alias: "ok", Type: "weird"}} {
		if err := ValidateAlias(bad); !fault.Is(err, fault.Validation) {
			t.Errorf("ValidateAlias(%+v) = %v", bad, err)
		}
	}
	// Only branch pushes are checked against allowed branches.
	staging := DefaultEnvironments()["staging"]
	if err := staging.CheckRelease("staging", &Trigger{Type: TriggerTag, Tag: "v1", Branch: "feature/x"}); err != nil {
		t.Errorf("a tag release with a branch = %v", err)
	}
	if err := staging.CheckRelease("staging", &Trigger{Type: TriggerBranchPush}); !fault.Is(err, fault.PermissionDenied) {
		t.Errorf("a branch push without a branch = %v", err)
	}
}

// TestBranchAliasIsAlwaysValid checks that every branch git allows gives a
// valid alias: characters an alias may not hold become dashes, and a long
// branch is cut (at a character boundary) before its number.
func TestBranchAliasIsAlwaysValid(t *testing.T) {
	for _, c := range []struct {
		branch string
		number int
		want   string
	}{
		{"main", 42, "main-42"},
		{"release/2.0", 3, "release-2.0-3"},
		{"fix-#12", 7, "fix--12-7"},
		{"100%-done?", 1, "100--done--1"},
		{strings.Repeat("b", 200), 12345, strings.Repeat("b", MaxAliasLength-6) + "-12345"},
		{strings.Repeat("é", 100), 9, strings.Repeat("é", 63) + "-9"},
		{strings.Repeat("é", 100), 10, strings.Repeat("é", 62) + "-10"}, // never half a character
	} {
		a := BranchAlias(c.branch, c.number)
		if a.Alias != c.want || a.Type != AliasBranch {
			t.Errorf("BranchAlias(%q, %d) = %q, want %q", c.branch, c.number, a.Alias, c.want)
		}
		if err := ValidateAlias(a); err != nil {
			t.Errorf("BranchAlias(%q, %d) is not a valid alias: %v", c.branch, c.number, err)
		}
		if len(a.Alias) > MaxAliasLength {
			t.Errorf("BranchAlias(%q, %d) has %d bytes", c.branch, c.number, len(a.Alias))
		}
	}
}
