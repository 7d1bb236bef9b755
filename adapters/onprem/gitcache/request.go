package gitcache

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// request is a validated checkout request with the paths it maps to.
type request struct {
	repository string // owner/name, as asked
	remote     string
	commit     string // lowercase hex
	jobID      string
	gitDir     string // <dir>/repos/<owner>/<name>.git
	lockPath   string // <dir>/repos/<owner>/<name>.lock
	wsName     string // base name of the workspace directory and its lease
}

// maxSegment bounds each part of a repository name.
const maxSegment = 100

// parse validates req and works out where its repository and workspace
// live. It never returns a path outside the cache's directories.
func (c *Cache) parse(req ports.CheckoutRequest) (request, error) {
	owner, name, err := splitRepository(req.Repository)
	if err != nil {
		return request{}, err
	}
	if err := checkRemote(req.Remote); err != nil {
		return request{}, err
	}
	commit := strings.ToLower(req.Commit)
	if !isSHA(commit) {
		return request{}, invalid("commit", "commit %q is not a full commit SHA (40 or 64 hex digits)", req.Commit)
	}
	ownerDir := filepath.Join(c.reposDir, owner)
	return request{
		repository: req.Repository,
		remote:     req.Remote,
		commit:     commit,
		jobID:      req.JobID,
		gitDir:     filepath.Join(ownerDir, name+".git"),
		lockPath:   filepath.Join(ownerDir, name+".lock"),
		wsName:     workspaceName(req.JobID),
	}, nil
}

// splitRepository checks that repository is owner/name and returns both
// parts as safe directory names.
func splitRepository(repository string) (owner, name string, err error) {
	if repository == "" {
		return "", "", invalid("repository", "repository is empty; want owner/name")
	}
	if strings.Contains(repository, "..") {
		return "", "", invalid("repository", "repository %q may not contain %q", repository, "..")
	}
	parts := strings.Split(repository, "/")
	if len(parts) != 2 {
		return "", "", invalid("repository", "repository %q is not owner/name", repository)
	}
	for _, p := range parts {
		switch {
		case p == "":
			return "", "", invalid("repository", "repository %q has an empty part; want owner/name", repository)
		case p == ".":
			return "", "", invalid("repository", "repository %q may not have a %q part", repository, ".")
		case len(p) > maxSegment:
			return "", "", invalid("repository", "repository %q has a part longer than %d characters", repository, maxSegment)
		}
	}
	return sanitise(parts[0]), sanitise(parts[1]), nil
}

// sanitise maps s to a directory name of letters, digits, '.', '_' and
// '-'. When it has to replace anything it appends a hash of s, so two
// names that differ only in replaced characters stay apart.
func sanitise(s string) string {
	var b strings.Builder
	changed := false
	for i, r := range s {
		if safeRune(r) && !(i == 0 && r == '.') {
			b.WriteRune(r)
			continue
		}
		b.WriteByte('_')
		changed = true
	}
	if changed {
		sum := sha256.Sum256([]byte(s))
		b.WriteString("-" + hex.EncodeToString(sum[:4]))
	}
	return b.String()
}

func safeRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

// checkRemote rejects remotes git would read as an option or that hold
// control characters.
func checkRemote(remote string) error {
	if remote == "" {
		return invalid("remote", "remote is empty; want a URL git understands")
	}
	if strings.HasPrefix(remote, "-") {
		return invalid("remote", "remote %q starts with '-'", redact(remote))
	}
	for _, r := range remote {
		if r < 0x20 || r == 0x7f {
			return invalid("remote", "remote %q contains a control character", redact(remote))
		}
	}
	return nil
}

// isSHA reports whether s is a full SHA-1 or SHA-256 object name in
// lowercase hex.
func isSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// maxJobName bounds the job part of a workspace name.
const maxJobName = 64

// workspaceName is the base name of a new workspace: the job ID made safe,
// then a random suffix, so a job seen twice gets two workspaces.
func workspaceName(jobID string) string {
	job := jobID
	if len(job) > maxJobName {
		job = job[:maxJobName]
	}
	var b strings.Builder
	for _, r := range job {
		if safeRune(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := strings.TrimLeft(b.String(), ".")
	if name == "" {
		name = "job"
	}
	return name + "-" + randomHex(6)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// invalid is a Validation fault about field.
func invalid(field, format string, args ...any) error {
	e := fault.New(fault.Validation, format, args...)
	e.Details = map[string]any{"field": field}
	return e
}
