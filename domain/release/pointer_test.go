package release

import (
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

func pointerRelease() *Release {
	return &Release{Repository: "acme/mono", Project: "api", Number: 42, CommitSHA: strings.Repeat("a", 40),
		OCIDigest: "sha256:" + strings.Repeat("d", 64),
		Aliases:   []Alias{{Alias: "42", Type: AliasNumeric}, {Alias: "main-42", Type: AliasBranch}, {Alias: "v1.2.3", Type: AliasTag}}}
}

func TestNewPointerHasSpec01sShape(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 123, time.FixedZone("CET", 3600))
	approved := time.Date(2026, 12, 2, 22, 0, 0, 0, time.UTC)
	p := NewPointer(pointerRelease(), "production", "alice", at, &Approval{Approver: "bob", ApprovedAt: approved})
	if p.APIVersion != "forge.projectcatalyst.io/v1" || p.Kind != "ReleasePointer" || p.Metadata.Name != "api" || p.Metadata.Environment != "production" ||
		p.Spec.Release != strings.Repeat("a", 40) || p.Spec.Aliases != (PointerAliases{Numeric: 42, Tag: "v1.2.3", Branch: "main-42"}) ||
		!p.Spec.DeployedAt.Equal(at.Truncate(time.Second)) || p.Spec.DeployedAt.Location() != time.UTC || p.Spec.ApprovedBy != "bob" || !p.Spec.ApprovedAt.Equal(approved) {
		t.Fatalf("pointer = %+v", p)
	}
	if err := p.Validate("environments/production/acme/mono/api"); err != nil {
		t.Fatal(err)
	}
	if got := PointerPath("production", "acme/mono", "api"); got != "environments/production/acme/mono/api/release.yaml" {
		t.Errorf("path = %s", got)
	}
	msg := DeployMessage(p, "acme/mono")
	for _, want := range []string{"Deploy api to production: release 42 (v1.2.3)\n\n", "Deployed by: alice", "Approved by: bob at 2026-12-02T22:00:00Z", "Image digest: sha256:ddd"} {
		if !strings.Contains(msg, want) {
			t.Errorf("deploy message lacks %q:\n%s", want, msg)
		}
	}
	prev := p
	prev.Spec.Aliases = PointerAliases{Numeric: 43, Branch: "main-43"}
	back := NewPointer(pointerRelease(), "production", "carol", at, nil)
	msg = RollbackMessage(back, "acme/mono", &prev)
	if !strings.HasPrefix(msg, "Rollback api in production to release 42 (v1.2.3)\n\nPrevious release: 43 (main-43)\nRolled back by: carol\n") {
		t.Errorf("rollback message:\n%s", msg)
	}
}

func TestPointerValidateRefusesHostilePointers(t *testing.T) {
	approved := time.Now()
	cases := map[string]func(p *Pointer){
		"api version":        func(p *Pointer) { p.APIVersion = "v1" },
		"kind":               func(p *Pointer) { p.Kind = "ConfigMap" },
		"short sha":          func(p *Pointer) { p.Spec.Release = "abc1234" },
		"sha with a path":    func(p *Pointer) { p.Spec.Release = "../../" + strings.Repeat("a", 34) },
		"upper-case sha":     func(p *Pointer) { p.Spec.Release = strings.Repeat("A", 40) },
		"no digest":          func(p *Pointer) { p.Spec.Digest = "" },
		"sha512 digest":      func(p *Pointer) { p.Spec.Digest = "sha512:" + strings.Repeat("a", 128) },
		"name with a slash":  func(p *Pointer) { p.Metadata.Name = "../api" },
		"environment path":   func(p *Pointer) { p.Metadata.Environment = "prod/../../x" },
		"no number":          func(p *Pointer) { p.Spec.Aliases.Numeric = 0 },
		"nobody deployed":    func(p *Pointer) { p.Spec.DeployedBy = "" },
		"approver, no time":  func(p *Pointer) { p.Spec.ApprovedBy = "bob" },
		"approval time only": func(p *Pointer) { p.Spec.ApprovedAt = &approved },
	}
	for name, edit := range cases {
		p := NewPointer(pointerRelease(), "dev", "alice", time.Now(), nil)
		edit(&p)
		if err := p.Validate(""); !fault.Is(err, fault.Validation) || !strings.HasPrefix(err.Error(), "release pointer: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	p := NewPointer(pointerRelease(), "dev", "alice", time.Now(), nil)
	for dir, want := range map[string]string{
		"environments/staging/acme/mono/api": "under environment staging",
		"environments/dev/acme/mono/web":     "under project web",
		"environments/dev/acme/api":          "is not environments/",
		"environments/dev/../mono/api/x":     "is not environments/",
		"/environments/dev/acme/mono/api":    "is not environments/",
		"other/dev/acme/mono/api":            "is not environments/",
	} {
		if err := p.Validate(dir); !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", dir, err, want)
		}
	}
}

func TestValidEnvironmentName(t *testing.T) {
	for _, ok := range []string{"dev", "production", "eu-west-1", "a"} {
		if !ValidEnvironmentName(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "Prod", "1dev", "dev-", "dev/x", "..", "dev.x", strings.Repeat("a", 64)} {
		if ValidEnvironmentName(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
