package config

// Action is the kind of work a CI step does.
type Action string

const (
	// ActionEarthly runs an Earthly target.
	ActionEarthly Action = "earthly"
	// ActionScript runs a shell script in the project directory.
	ActionScript Action = "script"
)

// Project is the configuration of one `.forge/project.cue`.
type Project struct {
	Name string
	// Path is the project directory relative to the repository root, with
	// "/" separators ("." for the root).
	Path string
	// File is the repository-relative path of the project's configuration.
	File    string
	NamePos Position

	// Phases maps a phase name to the steps the project runs in it.
	Phases     map[string][]Step
	PhasePos   map[string]Position
	Deployment Deployment
	Release    Release
	Artifacts  map[string]Artifact
	// ArtifactRefs are the @artifact() references found in the
	// configuration, left unresolved until a release builds the artifacts.
	ArtifactRefs []ArtifactRef
	// SourceRefs are the infrastructure references (spec 08: a "source"
	// field whose text is outputs/..., connections/..., secrets/...,
	// configs/... or a cross-namespace form) of the deployment resources,
	// with where they are written, for the release to check.
	SourceRefs []SourceRef
}

// SourceRef is one infrastructure reference of a deployment resource.
type SourceRef struct {
	// Path is where it sits (deployment.resources[2].spec.env.DB.source).
	Path string `json:"path"`
	// Value is the reference's text.
	Value string   `json:"value"`
	Pos   Position `json:"position,omitzero"`
}

// Step is one unit of work inside a phase.
type Step struct {
	Name     string      `json:"name"`
	Action   Action      `json:"action"`
	Target   string      `json:"target,omitempty"`
	Run      string      `json:"run,omitempty"`
	Shell    string      `json:"shell,omitempty"`
	Priority int         `json:"priority"`
	Timeout  string      `json:"timeout,omitempty"`
	Args     []string    `json:"args"`
	Secrets  []SecretRef `json:"secrets"`

	Pos Position `json:"-"`
}

// Deployment holds the Kubernetes resources a release renders. Values at
// the paths of the project's ArtifactRefs are nil until a release fills them.
type Deployment struct {
	Resources []any
}

// Release says when a project releases.
type Release struct {
	On []Trigger
	// Enabled is false only when the project opted out of releases.
	Enabled bool
	// EnabledPos is where enabled was set, when it was.
	EnabledPos Position
}

// Trigger is one entry of release.on: a branch pattern or a tag trigger.
type Trigger struct {
	// Branch is a regular expression that must match the whole branch name.
	Branch string `json:"branch,omitempty"`
	// Tag is true for {tag: true}: a tag matching the repository's tagging
	// strategy triggers a release.
	Tag bool `json:"tag,omitempty"`

	Pos Position `json:"-"`
}

// ArtifactType is what kind of thing an artifact is.
type ArtifactType string

// The artifact types the schema accepts.
const (
	ArtifactContainer ArtifactType = "container"
	ArtifactBinary    ArtifactType = "binary"
	ArtifactArchive   ArtifactType = "archive"
)

// Artifact is a named build output of a project and where it is published.
type Artifact struct {
	Type     ArtifactType `json:"type"`
	Producer Producer     `json:"producer"`
	// Publishers maps a repository publisher name to the project-level
	// settings for it (tags, asset names...).
	Publishers map[string]map[string]any `json:"publishers"`

	Pos          Position            `json:"-"`
	PublisherPos map[string]Position `json:"-"`
}

// Producer builds an artifact; exactly one of its fields is set.
type Producer struct {
	Earthly *EarthlyProducer `json:"earthly,omitempty"`
	Script  *ScriptProducer  `json:"script,omitempty"`

	Pos Position `json:"-"`
}

// Count returns how many producers are set.
func (p Producer) Count() int {
	n := 0
	if p.Earthly != nil {
		n++
	}
	if p.Script != nil {
		n++
	}
	return n
}

// EarthlyProducer builds an artifact with an Earthly target.
type EarthlyProducer struct {
	Target string   `json:"target"`
	Args   []string `json:"args,omitempty"`
}

// ScriptProducer builds an artifact with a shell script run in the
// project directory. It leaves the result in $FORGE_STAGING_DIR, or at
// Output, relative to the project directory, when Output is set.
type ScriptProducer struct {
	Run    string `json:"run"`
	Shell  string `json:"shell,omitempty"`
	Output string `json:"output,omitempty"`
}

// ArtifactRef is one unresolved @artifact("name.field.path") reference.
type ArtifactRef struct {
	// Path is where the reference sits in the project configuration, in
	// CUE path syntax (deployment.resources[0].spec.image).
	Path string `json:"path"`
	// Ref is the attribute's argument, e.g. "web.uri".
	Ref string `json:"ref"`
	// Artifact is the first element of Ref: the artifact it names.
	Artifact string `json:"artifact"`
	// Field is the rest of Ref: the output field of that artifact.
	Field string `json:"field"`
	// Pos is where the reference is written, which a release's rendering
	// errors name.
	Pos Position `json:"position,omitzero"`
}
