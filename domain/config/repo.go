package config

import (
	"encoding/json"
	"maps"
)

// TaggingStrategy says how git tags map to project releases.
type TaggingStrategy string

const (
	// TagMonorepo releases one project per tag named <project>/v*.
	TagMonorepo TaggingStrategy = "monorepo"
	// TagAll releases every enabled project on a bare v* tag.
	TagAll TaggingStrategy = "tag-all"
)

// Repo is the repository configuration of the root `.forge/repo.cue`.
type Repo struct {
	ForgeVersion string               `json:"forgeVersion"`
	Tagging      Tagging              `json:"tagging"`
	Phases       map[string]Phase     `json:"phases"`
	Publishers   map[string]Publisher `json:"publishers"`

	// File is the repository-relative path of repo.cue, for messages.
	File string `json:"-"`
}

// Tagging holds the tagging strategy of a repository.
type Tagging struct {
	Strategy TaggingStrategy `json:"strategy"`
}

// Phase is one CI phase a repository defines. Phases of the same group run
// in parallel; groups run in ascending order.
type Phase struct {
	Group       int    `json:"group"`
	Description string `json:"description,omitempty"`
	// Timeout is a Go duration string ("10m"); empty means no phase limit.
	Timeout  string `json:"timeout,omitempty"`
	Required bool   `json:"required"`

	Pos Position `json:"-"`
}

// Publisher is a named artifact destination a repository offers its
// projects. Settings holds the fields specific to the publisher type
// (registry, bucket, owner...).
type Publisher struct {
	Type        string
	Credentials *SecretRef
	Settings    map[string]any

	Pos Position
}

// MarshalJSON writes the publisher as one flat object, as it is written in
// CUE: type, credentials and the type-specific settings side by side.
func (p Publisher) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(p.Settings)+2)
	maps.Copy(m, p.Settings)
	m["type"] = p.Type
	if p.Credentials != nil {
		m["credentials"] = p.Credentials
	}
	return json.Marshal(m)
}

// SecretRef names a secret in an external store without holding its value.
// Provider selects the SecretProvider; Config holds that provider's fields
// (for "aws": secretName and region; for "vault": path, key, version...).
type SecretRef struct {
	Provider string
	Config   map[string]any
	// Env is, for step secrets, the environment variable that receives the
	// resolved value; empty elsewhere.
	Env string

	Pos Position
}

// MarshalJSON writes the reference flat, as it is written in CUE.
func (s SecretRef) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(s.Config)+2)
	maps.Copy(m, s.Config)
	m["provider"] = s.Provider
	if s.Env != "" {
		m["env"] = s.Env
	}
	return json.Marshal(m)
}
