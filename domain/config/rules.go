package config

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SchemaVersion is the configuration schema version this code implements.
// Repositories declaring another major version are refused; a newer minor
// version is accepted with a warning.
const SchemaVersion = "v1.0.0"

// Version is a parsed semantic version vMAJOR.MINOR.PATCH.
type Version struct{ Major, Minor, Patch int }

// String formats the version with its leading "v".
func (v Version) String() string { return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch) }

// ParseVersion parses "v1.2.3" (the "v" is optional; a missing minor or
// patch is zero; a pre-release or build suffix is ignored).
func ParseVersion(s string) (Version, error) {
	t := strings.TrimPrefix(s, "v")
	if i := strings.IndexAny(t, "-+"); i >= 0 {
		t = t[:i]
	}
	parts := strings.Split(t, ".")
	if t == "" || len(parts) > 3 {
		return Version{}, fmt.Errorf("%q is not a version of the form v1.2.3", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return Version{}, fmt.Errorf("%q is not a version of the form v1.2.3", s)
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, nil
}

// CheckVersion compares the forgeVersion a repository declares with the
// version supported here. A different major version is an error; a newer
// minor version is a warning, and loading goes on.
func CheckVersion(declared string, supported string, pos Position) Problems {
	d, err := ParseVersion(declared)
	if err != nil {
		return Problems{Errorf(pos, "forgeVersion: %v", err)}
	}
	s, err := ParseVersion(supported)
	if err != nil {
		return Problems{Errorf(pos, "supported schema version: %v", err)}
	}
	switch {
	case d.Major != s.Major:
		return Problems{Errorf(pos, "forgeVersion %s is not supported: this forge implements schema %s (major version %d); use a forge release for major version %d",
			declared, supported, s.Major, d.Major)}
	case d.Minor > s.Minor:
		return Problems{Warnf(pos, "forgeVersion %s is newer than the schema this forge implements (%s): fields added after %s are not checked; upgrade forge",
			declared, supported, supported)}
	}
	return nil
}

var projectName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// CheckProjectName returns an error message when name is not kebab-case
// (lowercase letters and digits in words joined by single hyphens), or "".
func CheckProjectName(name string) string {
	if name == "" {
		return "project name is empty"
	}
	if len(name) > MaxNameLength {
		return fmt.Sprintf("project name %q is %d characters long; the limit is %d", name, len(name), MaxNameLength)
	}
	if !projectName.MatchString(name) {
		return fmt.Sprintf("project name %q is not kebab-case: use lowercase letters and digits in words joined by single hyphens (e.g. %q)", name, suggestName(name))
	}
	return ""
}

// MaxNameLength bounds project, phase and step names: they become parts of
// object keys, job records and Kubernetes labels.
const MaxNameLength = 63

var safeName = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`)

// CheckName returns an error message when name, the name of a phase or a
// step (kind says which), is outside the safe set: lowercase ASCII
// letters, digits, '-', '_' and '.', starting and ending with a letter or
// digit, at most MaxNameLength characters. Names become parts of log keys
// and file names, so a separator, "..", a control character or an empty
// name is refused. It returns "" for a valid name.
func CheckName(kind, name string) string {
	const rule = "use lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
	switch {
	case name == "":
		return fmt.Sprintf("%s name is empty: %s", kind, rule)
	case len(name) > MaxNameLength:
		return fmt.Sprintf("%s name %q is %d characters long; the limit is %d", kind, name, len(name), MaxNameLength)
	case !safeName.MatchString(name):
		return fmt.Sprintf("%s name %q is not allowed: %s", kind, name, rule)
	}
	return ""
}

func suggestName(name string) string {
	// Split into words at anything that is not a letter or digit, and
	// before an upper-case letter that starts a word ("myAPI" -> my, API;
	// "HTTPServer" -> HTTP, Server).
	rs := []rune(name)
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	isUpper := func(r rune) bool { return r >= 'A' && r <= 'Z' }
	isLower := func(r rune) bool { return r >= 'a' && r <= 'z' }
	for i, r := range rs {
		switch {
		case isUpper(r):
			prevLower := i > 0 && (isLower(rs[i-1]) || (rs[i-1] >= '0' && rs[i-1] <= '9'))
			nextLower := i+1 < len(rs) && isLower(rs[i+1])
			prevUpper := i > 0 && isUpper(rs[i-1])
			if prevLower || (prevUpper && nextLower) {
				flush()
			}
			cur = append(cur, r)
		case isLower(r), r >= '0' && r <= '9':
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	s := strings.Join(words, "-")
	if len(s) > MaxNameLength {
		s = strings.TrimRight(s[:MaxNameLength], "-")
	}
	if s == "" {
		return "my-project"
	}
	return s
}

// CheckDuration returns a problem when s is not a positive Go duration.
func CheckDuration(field, s string, pos Position) Problems {
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return Problems{Errorf(pos, "%s: %q is not a duration (use forms like \"90s\", \"15m\" or \"1h30m\")", field, s)}
	}
	if d <= 0 {
		return Problems{Errorf(pos, "%s: %q must be positive", field, s)}
	}
	return nil
}

// CheckRepo applies the rules of a repository configuration that its schema
// cannot express.
func CheckRepo(r *Repo) Problems {
	var ps Problems
	for _, name := range sortedKeys(r.Phases) {
		ph := r.Phases[name]
		if msg := CheckName("phase", name); msg != "" {
			ps = append(ps, Errorf(ph.Pos, "%s", msg))
		}
		if ph.Group < 1 {
			ps = append(ps, Errorf(ph.Pos, "phase %q: group must be 1 or more, got %d", name, ph.Group))
		}
		ps = append(ps, CheckDuration(fmt.Sprintf("phase %q timeout", name), ph.Timeout, ph.Pos)...)
	}
	for _, name := range sortedKeys(r.Publishers) {
		p := r.Publishers[name]
		if p.Credentials != nil {
			ps = append(ps, CheckSecretRef(fmt.Sprintf("publisher %q credentials", name), *p.Credentials)...)
		}
	}
	return ps
}

// CheckSecretRef applies the provider rules the schema cannot express: an
// aws reference needs secretName or its alias path, not both.
func CheckSecretRef(what string, s SecretRef) Problems {
	for k, v := range s.Config {
		if v == "" {
			return Problems{Errorf(s.Pos, "%s: %s is empty", what, k)}
		}
	}
	if s.Provider == "aws" {
		_, hasName := s.Config["secretName"]
		_, hasPath := s.Config["path"]
		switch {
		case hasName && hasPath:
			return Problems{Errorf(s.Pos, "%s: give secretName or its alias path, not both", what)}
		case !hasName && !hasPath:
			return Problems{Errorf(s.Pos, "%s: provider \"aws\" needs secretName (or its alias path)", what)}
		}
	}
	return nil
}

// CheckProject applies the rules that relate a project to its repository:
// its name, the phases it participates in, the publishers it names, the
// artifacts its @artifact() references name, and its release triggers.
func CheckProject(r *Repo, p *Project) Problems {
	var ps Problems
	if msg := CheckProjectName(p.Name); msg != "" {
		ps = append(ps, Errorf(p.NamePos, "%s", msg))
	}
	for _, phase := range sortedKeys(p.Phases) {
		if msg := CheckName("phase", phase); msg != "" {
			ps = append(ps, Errorf(p.PhasePos[phase], "%s", msg))
		} else if _, ok := r.Phases[phase]; !ok {
			ps = append(ps, Errorf(p.PhasePos[phase], "phase %q is not defined in %s (defined phases: %s)",
				phase, r.File, listOrNone(sortedKeys(r.Phases))))
		}
		for _, st := range p.Phases[phase] {
			if msg := CheckName("step", st.Name); msg != "" {
				ps = append(ps, Errorf(st.Pos, "%s", msg))
			}
			what := fmt.Sprintf("step %q of phase %q", st.Name, phase)
			ps = append(ps, CheckDuration(what+" timeout", st.Timeout, st.Pos)...)
			for _, s := range st.Secrets {
				ps = append(ps, CheckSecretRef(what+" secret", s)...)
			}
		}
	}
	for _, phase := range sortedKeys(r.Phases) {
		if r.Phases[phase].Required && len(p.Phases[phase]) == 0 {
			ps = append(ps, Errorf(p.NamePos, "project %q has no steps in phase %q, which %s marks required", p.Name, phase, r.File))
		}
	}
	for _, name := range sortedKeys(p.Artifacts) {
		a := p.Artifacts[name]
		if n := a.Producer.Count(); n != 1 {
			ps = append(ps, Errorf(a.Producer.Pos, "artifact %q must have exactly one producer, found %d", name, n))
		}
		for _, pub := range sortedKeys(a.Publishers) {
			if _, ok := r.Publishers[pub]; !ok {
				ps = append(ps, Errorf(a.PublisherPos[pub], "artifact %q: publisher %q is not defined in %s (defined publishers: %s)",
					name, pub, r.File, listOrNone(sortedKeys(r.Publishers))))
			}
		}
	}
	for _, ref := range p.ArtifactRefs {
		if _, ok := p.Artifacts[ref.Artifact]; !ok {
			ps = append(ps, Errorf(ref.Pos, "@artifact(%q) names artifact %q, which project %q does not declare (declared artifacts: %s)",
				ref.Ref, ref.Artifact, p.Name, listOrNone(sortedKeys(p.Artifacts))))
		}
	}
	for _, t := range p.Release.On {
		if t.Branch == "" && !t.Tag {
			ps = append(ps, Errorf(t.Pos, "release trigger has an empty branch pattern; use {branch: \"main\"} or {tag: true}"))
		}
		if t.Branch != "" {
			if _, err := regexp.Compile(t.Branch); err != nil {
				ps = append(ps, Errorf(t.Pos, "release trigger branch %q is not a valid regular expression: %v", t.Branch, err))
			}
		}
	}
	return ps
}

// DropDuplicates sorts projects by path and removes every project whose
// name another project also uses (with two candidates neither can be
// released safely), reporting each one at its name with the others' paths.
func DropDuplicates(projects []*Project) ([]*Project, Problems) {
	sort.Slice(projects, func(i, j int) bool { return projects[i].Path < projects[j].Path })
	byName := map[string][]*Project{}
	for _, p := range projects {
		byName[p.Name] = append(byName[p.Name], p)
	}
	var kept []*Project
	var ps Problems
	for _, p := range projects {
		same := byName[p.Name]
		if len(same) == 1 {
			kept = append(kept, p)
			continue
		}
		var others []string
		for _, q := range same {
			if q != p {
				others = append(others, q.Path)
			}
		}
		ps = append(ps, Errorf(p.NamePos, "project name %q is also used by the project in %s: project names must be unique",
			p.Name, strings.Join(others, ", ")))
	}
	return kept, ps
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
