// Package artifact holds what building and publishing one artifact
// produced (spec 04, Artifact Output Schema): the producer's output
// fields, each publisher's outcome, and the tracking image that records
// them. A release renders @artifact("name.field") references against the
// View of these outputs. It is in the domain layer: no I/O.
package artifact

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Output is one artifact's build and publication.
type Output struct {
	Name    string `json:"name"`
	Project string `json:"project"`
	Type    string `json:"type"`
	// Producer holds the producer's output fields (digest, size, ...),
	// without the internal location_type and path.
	Producer map[string]any `json:"producer"`
	// Publishers maps a publisher name to its outcome.
	Publishers map[string]Publication `json:"publishers"`
	// Tracking is the signed tracking image, once pushed.
	Tracking *Tracking `json:"tracking,omitempty"`
	// Error says why the artifact failed, when it did: its producer
	// failed, a publisher failed, or its tracking image could not be made.
	Error string `json:"error,omitempty"`
}

// Publication is one publisher's outcome.
type Publication struct {
	Type string `json:"type"`
	// Status is published (pushed now), present (there already with the
	// same digest, nothing pushed) or failed.
	Status PublicationStatus `json:"status"`
	// Fields are the publisher's output fields (uri, registry, tag,
	// digest...).
	Fields map[string]any `json:"fields,omitempty"`
	Error  string         `json:"error,omitempty"`
}

// PublicationStatus is how a publisher ended.
type PublicationStatus string

// The publisher outcomes.
const (
	Published PublicationStatus = "published"
	Present   PublicationStatus = "present"
	Failed    PublicationStatus = "failed"
)

// Tracking is where an artifact's tracking image is.
type Tracking struct {
	URI    string `json:"uri"`
	Digest string `json:"digest"`
}

// internal are producer fields that never reach a release (spec 04).
var internal = []string{"location_type", "path"}

// View is the document @artifact() references read: the producer's
// fields and publishers.<name>.<fields> (spec 04, Output Structure), plus
// tracking.uri and tracking.digest.
func (o Output) View() map[string]any {
	v := map[string]any{}
	for k, x := range o.Producer {
		if !slices.Contains(internal, k) {
			v[k] = x
		}
	}
	pubs := map[string]any{}
	for name, p := range o.Publishers {
		if p.Status != Failed {
			pubs[name] = maps.Clone(p.Fields)
		}
	}
	v["publishers"] = pubs
	if o.Tracking != nil {
		v["tracking"] = map[string]any{"uri": o.Tracking.URI, "digest": o.Tracking.Digest}
	}
	return v
}

// FailedPublishers lists the publishers that failed, sorted.
func (o Output) FailedPublishers() []string {
	var names []string
	for name, p := range o.Publishers {
		if p.Status == Failed {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Failure says in a sentence why the artifact failed, or "" when it did
// not: its own error, else the publishers that failed with their errors.
func (o Output) Failure() string {
	if o.Error != "" {
		return fmt.Sprintf("artifact %s of %s failed: %s", o.Name, o.Project, o.Error)
	}
	failed := o.FailedPublishers()
	if len(failed) == 0 {
		return ""
	}
	parts := make([]string, len(failed))
	for i, name := range failed {
		parts[i] = fmt.Sprintf("publisher %s: %s", name, o.Publishers[name].Error)
	}
	return fmt.Sprintf("artifact %s of %s failed to publish (%s)", o.Name, o.Project, strings.Join(parts, "; "))
}
