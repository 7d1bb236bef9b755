package deploying_test

import (
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
)

func pointer() release.Pointer {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	approved := at.Add(-time.Hour)
	r := &release.Release{Repository: "acme/mono", Project: "api", Number: 42, CommitSHA: strings.Repeat("a", 40), OCIDigest: "sha256:" + strings.Repeat("d", 64),
		Aliases: []release.Alias{{Alias: "42", Type: release.AliasNumeric}, {Alias: "v1.2.3", Type: release.AliasTag}, {Alias: "main-42", Type: release.AliasBranch}}}
	return release.NewPointer(r, "production", "alice@acme.test", at, &release.Approval{Approver: "bob@acme.test", ApprovedAt: approved})
}

const wantYAML = `apiVersion: forge.projectcatalyst.io/v1
kind: ReleasePointer
metadata:
  name: api
  environment: production
spec:
  release: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
  digest: sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
  aliases:
    numeric: 42
    tag: v1.2.3
    branch: main-42
  deployedAt: 2026-12-03T10:00:00Z
  deployedBy: alice@acme.test
  approvedBy: bob@acme.test
  approvedAt: 2026-12-03T09:00:00Z
`

func TestPointerFileRoundTrip(t *testing.T) {
	b, err := deploying.EncodePointer(pointer())
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != wantYAML {
		t.Fatalf("pointer file:\n%s\nwant:\n%s", b, wantYAML)
	}
	p, err := deploying.ParsePointer(b, "environments/production/acme/mono/api")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := deploying.EncodePointer(*p)
	if string(again) != wantYAML {
		t.Errorf("read back and written again:\n%s", again)
	}
}

// TestParsePointerRefusesHostileFiles: each file is refused with a
// Validation error that says what is wrong.
func TestParsePointerRefusesHostileFiles(t *testing.T) {
	cases := map[string]struct{ file, want string }{
		"empty":            {"", "the file is empty"},
		"unknown field":    {strings.Replace(wantYAML, "  deployedBy:", "  command: rm -rf /\n  deployedBy:", 1), "field command not found"},
		"two documents":    {wantYAML + "---\n" + wantYAML, "more than one document"},
		"short sha":        {strings.Replace(wantYAML, strings.Repeat("a", 40), "abc1234", 1), "spec.release must be the release's full commit SHA"},
		"not a digest":     {strings.Replace(wantYAML, "sha256:"+strings.Repeat("d", 64), "latest", 1), "spec.digest"},
		"other kind":       {strings.Replace(wantYAML, "kind: ReleasePointer", "kind: Pod", 1), "kind must be ReleasePointer"},
		"list":             {"- a\n- b\n", "not a ReleasePointer"},
		"huge":             {wantYAML + "#" + strings.Repeat("x", deploying.MaxPointerBytes), "over the limit"},
		"alias bomb":       {"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n", "not a ReleasePointer"},
		"wrong directory":  {wantYAML, "under environment dev"},
		"number as string": {strings.Replace(wantYAML, "numeric: 42", "numeric: forty-two", 1), "not a ReleasePointer"},
	}
	for name, c := range cases {
		dir := "environments/production/acme/mono/api"
		if name == "wrong directory" {
			dir = "environments/dev/acme/mono/api"
		}
		_, err := deploying.ParsePointer([]byte(c.file), dir)
		if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want Validation saying %q", name, err, c.want)
		}
	}
}

// FuzzParsePointer: whatever the file, ParsePointer returns a pointer or
// a Validation error, never panics, and a pointer it accepts is written
// back to a file it accepts again as the same pointer.
func FuzzParsePointer(f *testing.F) {
	f.Add([]byte(wantYAML))
	f.Add([]byte("apiVersion: forge.projectcatalyst.io/v1\nkind: ReleasePointer\n"))
	f.Add([]byte("a: &a [x]\nb: [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := deploying.ParsePointer(b, "")
		if err != nil {
			if !fault.Is(err, fault.Validation) {
				t.Fatalf("error of kind other than Validation: %v", err)
			}
			return
		}
		out, err := deploying.EncodePointer(*p)
		if err != nil {
			t.Fatal(err)
		}
		again, err := deploying.ParsePointer(out, "")
		if err != nil {
			t.Fatalf("a pointer it accepted, written again, is refused: %v\n%s", err, out)
		}
		if a, _ := deploying.EncodePointer(*again); string(a) != string(out) {
			t.Fatalf("not stable:\n%s\n%s", out, a)
		}
	})
}
