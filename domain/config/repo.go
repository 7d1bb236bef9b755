package config

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// UnmarshalJSON reads the flat object MarshalJSON writes, so a publisher
// crosses the job queue and the database unchanged.
func (p *Publisher) UnmarshalJSON(b []byte) error {
	m, err := flatObject(b)
	if err != nil {
		return err
	}
	typ, err := takeString(m, "type", "publisher")
	if err != nil {
		return err
	}
	*p = Publisher{Type: typ}
	if raw, ok := m["credentials"]; ok {
		delete(m, "credentials")
		if raw != nil {
			cb, _ := json.Marshal(raw)
			var ref SecretRef
			if err := json.Unmarshal(cb, &ref); err != nil {
				return fmt.Errorf("publisher credentials: %w", err)
			}
			p.Credentials = &ref
		}
	}
	p.Settings = m
	return nil
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

// UnmarshalJSON reads the flat object MarshalJSON writes: provider and env
// are the reference's own fields, every other field is the provider's.
func (s *SecretRef) UnmarshalJSON(b []byte) error {
	m, err := flatObject(b)
	if err != nil {
		return err
	}
	provider, err := takeString(m, "provider", "secret reference")
	if err != nil {
		return err
	}
	env, err := takeString(m, "env", "secret reference")
	if err != nil {
		return err
	}
	*s = SecretRef{Provider: provider, Env: env, Config: m}
	return nil
}

// flatObject reads a JSON object keeping numbers exact (json.Number), as
// the configuration loader does for free-form values.
func flatObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// takeString removes key from m and returns it as a string ("" when
// absent); a value of another type is an error naming what holds it.
func takeString(m map[string]any, key, what string) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		delete(m, key)
		return "", nil
	}
	delete(m, key)
	str, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: %s must be a string, not %T", what, key, v)
	}
	return str, nil
}
