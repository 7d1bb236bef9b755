package discovery

import (
	"sort"
	"time"

	"github.com/catalyst-forge/forge/domain/config"
)

// MaxOutputBytes caps the encoded discovery output; a larger one is an error.
const MaxOutputBytes = 1 << 20

// Output is the result of discovering one commit of a repository. Its JSON
// form is the contract between discovery and the rest of the pipeline.
type Output struct {
	Repository      Repository   `json:"repository"`
	Projects        []Project    `json:"projects"`
	PhaseGroups     []PhaseGroup `json:"phaseGroups"`
	ReleaseEnabled  bool         `json:"releaseEnabled"`
	ReleaseProjects []string     `json:"releaseProjects"`
	Errors          []Error      `json:"errors"`
	// Commit is what a release records of the commit discovered; the
	// worker that checked it out fills it in.
	Commit *Commit `json:"commit,omitempty"`
}

// Commit is the discovered commit as a release records its source.
type Commit struct {
	SHA     string    `json:"sha"`
	Time    time.Time `json:"time"`
	Author  string    `json:"author,omitempty"`
	Message string    `json:"message,omitempty"`
}

// Repository is the repository configuration as discovery reports it.
type Repository struct {
	ForgeVersion string                      `json:"forgeVersion"`
	Tagging      config.Tagging              `json:"tagging"`
	Phases       map[string]config.Phase     `json:"phases"`
	Publishers   map[string]config.Publisher `json:"publishers"`
}

// Project is one valid project as discovery reports it.
type Project struct {
	Name             string                     `json:"name"`
	Path             string                     `json:"path"`
	Phases           map[string][]config.Step   `json:"phases"`
	ReleaseTriggered bool                       `json:"releaseTriggered"`
	Artifacts        map[string]config.Artifact `json:"artifacts"`
	ArtifactRefs     []config.ArtifactRef       `json:"artifactRefs"`
	// File is the project's configuration file, relative to the
	// repository root, which rendering errors name.
	File string `json:"file,omitempty"`
	// Resources are the project's deployment resources as evaluated,
	// their @artifact references not yet filled; only a release-triggered
	// project carries them, for its release to render.
	Resources []any `json:"resources,omitempty"`
}

// Config returns what rendering needs of the project's configuration.
func (p Project) Config() *config.Project {
	return &config.Project{Name: p.Name, Path: p.Path, File: p.File, Artifacts: p.Artifacts,
		ArtifactRefs: p.ArtifactRefs, Deployment: config.Deployment{Resources: p.Resources}}
}

// Error is a problem that made discovery skip a project (or the whole
// repository), with the file and position it was found at.
type Error struct {
	Path    string `json:"path"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// Build assembles the output from a loaded repository, the projects that
// loaded without errors, and the problems found on the way. Projects are
// listed by path; steps are ordered; release triggers are evaluated for git.
func Build(repo *config.Repo, projects []*config.Project, problems config.Problems, git GitContext) Output {
	out := Output{
		Repository: Repository{
			ForgeVersion: repo.ForgeVersion,
			Tagging:      repo.Tagging,
			Phases:       nonNilMap(repo.Phases),
			Publishers:   nonNilMap(repo.Publishers),
		},
		Projects:        []Project{},
		PhaseGroups:     PhaseGroups(repo.Phases),
		ReleaseProjects: []string{},
		Errors:          []Error{},
	}
	sorted := append([]*config.Project(nil), projects...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	for _, p := range sorted {
		dp := Project{
			Name:             p.Name,
			Path:             p.Path,
			Phases:           map[string][]config.Step{},
			ReleaseTriggered: ReleaseTriggered(repo.Tagging.Strategy, p, git),
			Artifacts:        nonNilMap(p.Artifacts),
			ArtifactRefs:     p.ArtifactRefs,
			File:             p.File,
		}
		if dp.ReleaseTriggered {
			dp.Resources = p.Deployment.Resources
		}
		if dp.ArtifactRefs == nil {
			dp.ArtifactRefs = []config.ArtifactRef{}
		}
		for phase, steps := range p.Phases {
			ordered := make([]config.Step, 0, len(steps))
			for _, st := range steps {
				if st.Args == nil {
					st.Args = []string{}
				}
				if st.Secrets == nil {
					st.Secrets = []config.SecretRef{}
				}
				ordered = append(ordered, st)
			}
			dp.Phases[phase] = OrderSteps(ordered)
		}
		if dp.ReleaseTriggered {
			out.ReleaseProjects = append(out.ReleaseProjects, p.Name)
		}
		out.Projects = append(out.Projects, dp)
	}
	out.ReleaseEnabled = len(out.ReleaseProjects) > 0
	errs, _ := problems.Split()
	errs.Sort()
	for _, e := range errs {
		out.Errors = append(out.Errors, Error{Path: e.Pos.File, Line: e.Pos.Line, Column: e.Pos.Column, Message: e.Message})
	}
	return out
}

func nonNilMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}
