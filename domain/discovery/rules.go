package discovery

import (
	"regexp"
	"sort"
	"strings"

	"github.com/catalyst-forge/forge/domain/config"
)

// GitContext is the commit a discovery runs for.
type GitContext struct {
	Branch string `json:"branch,omitempty"`
	Tag    string `json:"tag,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// PhaseGroup is a set of phases that run in parallel.
type PhaseGroup struct {
	Group  int      `json:"group"`
	Phases []string `json:"phases"`
}

// PhaseGroups orders a repository's phases: ascending group number, and
// phases of one group sorted by name.
func PhaseGroups(phases map[string]config.Phase) []PhaseGroup {
	byGroup := map[int][]string{}
	for name, ph := range phases {
		byGroup[ph.Group] = append(byGroup[ph.Group], name)
	}
	groups := make([]PhaseGroup, 0, len(byGroup))
	for g, names := range byGroup {
		sort.Strings(names)
		groups = append(groups, PhaseGroup{Group: g, Phases: names})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Group < groups[j].Group })
	return groups
}

// OrderSteps sorts steps by priority, highest first; steps of equal
// priority keep name order. It sorts in place and returns steps.
func OrderSteps(steps []config.Step) []config.Step {
	sort.SliceStable(steps, func(i, j int) bool {
		if steps[i].Priority != steps[j].Priority {
			return steps[i].Priority > steps[j].Priority
		}
		return steps[i].Name < steps[j].Name
	})
	return steps
}

// Batches splits ordered steps into runs of equal priority: the steps of one
// batch run in parallel, and a batch starts when the one before it ended.
func Batches(ordered []config.Step) [][]config.Step {
	var out [][]config.Step
	for i := 0; i < len(ordered); {
		j := i + 1
		for j < len(ordered) && ordered[j].Priority == ordered[i].Priority {
			j++
		}
		out = append(out, ordered[i:j])
		i = j
	}
	return out
}

// ReleaseTriggered reports whether git triggers a release of p under the
// repository's tagging strategy:
//   - {branch: "re"} matches when re matches the whole branch name;
//   - {tag: true} under monorepo matches a tag "<project>/v*";
//   - under tag-all, a bare "v*" tag triggers every project;
//   - release.enabled: false turns every trigger off.
func ReleaseTriggered(strategy config.TaggingStrategy, p *config.Project, git GitContext) bool {
	if !p.Release.Enabled {
		return false
	}
	if strategy == config.TagAll && isBareVersionTag(git.Tag) {
		return true
	}
	for _, t := range p.Release.On {
		switch {
		case t.Branch != "" && git.Branch != "":
			re, err := regexp.Compile(`^(?:` + t.Branch + `)$`)
			if err == nil && re.MatchString(git.Branch) {
				return true
			}
		case t.Tag && strategy == config.TagMonorepo:
			if rest, ok := strings.CutPrefix(git.Tag, p.Name+"/"); ok && isBareVersionTag(rest) {
				return true
			}
		}
	}
	return false
}

// isBareVersionTag reports whether tag matches the glob "v*" with no "/" in
// it (a project-scoped tag is not bare).
func isBareVersionTag(tag string) bool {
	return strings.HasPrefix(tag, "v") && !strings.Contains(tag, "/")
}
