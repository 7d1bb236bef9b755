// Package event holds the platform's lifecycle events (spec 06, event
// schemas): what happened, when, and the data a subscriber needs. It is in
// the domain layer.
package event

import "time"

// Type names an event.
type Type string

// The events of spec 06, and RunRetried: a failed run's release stage
// retried (07 asks for a retry history of failed releases).
const (
	RunCreated        Type = "pipeline.run.created"
	RunCompleted      Type = "pipeline.run.completed"
	RunRetried        Type = "pipeline.run.retried"
	ReleaseCreated    Type = "release.created"
	DeploymentCreated Type = "deployment.created"
)

// Event is one lifecycle event, encoded as the spec's JSON envelope.
type Event struct {
	Type      Type           `json:"event_type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}
