package release

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
)

// Release is an immutable snapshot of a project at a commit.
type Release struct {
	ID            string     `json:"id"`
	Repository    string     `json:"repository"`
	Project       string     `json:"project"`
	CommitSHA     string     `json:"commit_sha"`
	Number        int        `json:"release_number"`
	PipelineRunID *string    `json:"pipeline_run_id"`
	OCIURI        string     `json:"oci_uri"`
	OCIDigest     string     `json:"oci_digest"`
	CreatedAt     time.Time  `json:"created_at"`
	CreatedBy     string     `json:"created_by"`
	Trigger       *Trigger   `json:"trigger,omitempty"`
	Artifacts     []Artifact `json:"artifacts"`
	Aliases       []Alias    `json:"aliases"`
}

// Triplet returns the release's canonical identity.
func (r *Release) Triplet() Triplet {
	return Triplet{Repository: r.Repository, Project: r.Project, CommitSHA: r.CommitSHA}
}

// AliasType says where an alias comes from.
type AliasType string

// The alias types.
const (
	AliasNumeric AliasType = "numeric"
	AliasTag     AliasType = "tag"
	AliasBranch  AliasType = "branch"
	AliasCustom  AliasType = "custom"
)

// Valid reports whether t is a known alias type.
func (t AliasType) Valid() bool {
	return t == AliasNumeric || t == AliasTag || t == AliasBranch || t == AliasCustom
}

// Alias is a human name for a release: its number, a tag, a branch-number.
type Alias struct {
	ID        string    `json:"-"`
	ReleaseID string    `json:"-"`
	Alias     string    `json:"alias"`
	Type      AliasType `json:"alias_type"`
}

// NumericAlias is the alias every release gets: its number.
func NumericAlias(number int) Alias {
	return Alias{Alias: strconv.Itoa(number), Type: AliasNumeric}
}

// BranchAlias names a release from a branch, e.g. "main-42"; characters
// an alias may not hold become dashes (AliasSafe: "release/2.0" gives
// "release-2.0-42", "fix-#12" "fix--12-42"), and a branch too long for
// MaxAliasLength is cut (at a character boundary) before the number, which
// keeps the alias unique. Every branch git allows thus gives a valid alias;
// before, "fix-#12" or a 130-character branch made its releases fail.
func BranchAlias(branch string, number int) Alias {
	suffix := "-" + strconv.Itoa(number)
	prefix := AliasSafe(branch)
	if len(prefix)+len(suffix) > MaxAliasLength {
		cut := MaxAliasLength - len(suffix)
		for cut > 0 && !utf8.RuneStart(prefix[cut]) {
			cut--
		}
		prefix = prefix[:cut]
	}
	return Alias{Alias: prefix + suffix, Type: AliasBranch}
}

// aliasUnsafe are the characters ValidateAlias refuses in an alias.
const aliasUnsafe = " \t\r\n/\\?#%"

// AliasSafe turns a branch or tag name into alias text: each character an
// alias may not hold (slashes, backslashes, whitespace, '?', '#', '%')
// becomes a dash.
func AliasSafe(name string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(aliasUnsafe, r) {
			return '-'
		}
		return r
	}, name)
}

// TriggerType says what created a release.
type TriggerType string

// The release trigger types.
const (
	TriggerBranchPush TriggerType = "branch_push"
	TriggerTag        TriggerType = "tag"
	TriggerManual     TriggerType = "manual"
)

// Valid reports whether t is a known trigger type.
func (t TriggerType) Valid() bool {
	return t == TriggerBranchPush || t == TriggerTag || t == TriggerManual
}

// Trigger records what created a release.
type Trigger struct {
	Type        TriggerType `json:"trigger_type"`
	Branch      string      `json:"branch,omitempty"`
	Tag         string      `json:"tag,omitempty"`
	TriggeredBy string      `json:"triggered_by"`
	TriggeredAt time.Time   `json:"triggered_at"`
}

// ArtifactType is the kind of a release artifact.
type ArtifactType string

// Valid reports whether t is container, binary or archive.
func (t ArtifactType) Valid() bool {
	return t == "container" || t == "binary" || t == "archive"
}

// Artifact links a release to one of its built artifacts.
type Artifact struct {
	ID                  string       `json:"id"`
	ReleaseID           string       `json:"-"`
	Name                string       `json:"artifact_name"`
	Type                ArtifactType `json:"artifact_type"`
	TrackingOCIURI      string       `json:"tracking_oci_uri"`
	TrackingOCIDigest   string       `json:"tracking_oci_digest,omitempty"`
	PrimaryPublishedURI string       `json:"primary_published_uri"`
	CreatedAt           time.Time    `json:"created_at"`
}

// MaxAliasLength bounds an alias.
const MaxAliasLength = 128

// ValidateAlias checks an alias a caller gives a release. Aliases made only
// of digits are reserved for release numbers: a custom alias "7" would
// make release 7 of the project impossible to create, since every release
// gets its number as an alias.
func ValidateAlias(a Alias) error {
	bad := func(msg string) error {
		return &fault.Error{Kind: fault.Validation, Message: msg, Details: map[string]any{"field": "alias"}}
	}
	switch {
	case a.Alias == "":
		return bad("an alias must not be empty")
	case len(a.Alias) > MaxAliasLength:
		return bad("alias " + strconv.Quote(a.Alias[:32]+"…") + " is longer than 128 characters")
	case strings.ContainsAny(a.Alias, aliasUnsafe):
		return bad("alias " + strconv.Quote(a.Alias) + " may not contain spaces, slashes, '?', '#' or '%'")
	case !a.Type.Valid():
		return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "alias_type"},
			Message: "alias " + strconv.Quote(a.Alias) + ": type " + strconv.Quote(string(a.Type)) + " is not numeric, tag, branch or custom"}
	case a.Type != AliasNumeric && isDigits(a.Alias):
		return bad("alias " + strconv.Quote(a.Alias) + " is only digits; such aliases are reserved for release numbers")
	}
	return nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// SetImage records digest as the release's image digest, once: the same
// digest again changes nothing, another is a Conflict (a release never
// changes), and anything but a sha256 digest is Validation. Stores call
// it so that every adapter keeps the same rule.
func (r *Release) SetImage(digest string) error {
	if _, err := oci.ParseDigest(digest); err != nil {
		return &fault.Error{Kind: fault.Validation, Message: "oci_digest: " + err.Error(), Details: map[string]any{"field": "oci_digest"}}
	}
	switch r.OCIDigest {
	case "", digest:
		r.OCIDigest = digest
		return nil
	}
	return fault.New(fault.Conflict, "release %d of %s already has image %s; a release never changes", r.Number, r.Project, r.OCIDigest)
}
