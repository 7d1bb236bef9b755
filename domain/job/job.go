// Package job holds the units of work the pipeline hands to workers: a
// job's type (which decides its stream and subject), its identity, and the
// result a worker replies with. It is in the domain layer.
package job

import (
	"fmt"
	"time"
)

// Type is the kind of a job; each kind has its own stream.
type Type string

// The job types of spec 03.
const (
	TypeDiscovery  Type = "discovery"
	TypeCI         Type = "ci"
	TypeArtifact   Type = "artifact"
	TypeRelease    Type = "release"
	TypeDeployment Type = "deployment"
)

// Types lists every job type.
var Types = []Type{TypeDiscovery, TypeCI, TypeArtifact, TypeRelease, TypeDeployment}

// Stream returns the JetStream stream that carries jobs of type t, and the
// subject prefix its jobs are published under (spec 03, stream routing).
func (t Type) Stream() (stream, subjectPrefix string, err error) {
	switch t {
	case TypeDiscovery:
		return "pipeline-discovery", "pipeline.discovery", nil
	case TypeCI:
		return "pipeline-tasks", "pipeline.tasks", nil
	case TypeArtifact:
		return "pipeline-artifacts", "pipeline.artifacts", nil
	case TypeRelease, TypeDeployment:
		return "pipeline-releases", "pipeline.releases", nil
	}
	return "", "", fmt.Errorf("unknown job type %q", t)
}

// Job is one unit of work. Its ID is unique: dispatching a job with the
// same ID again does not queue it twice.
type Job struct {
	ID   string `json:"id"`
	Type Type   `json:"type"`
	// RunID is the pipeline run the job belongs to, for logs and cleanup.
	RunID string `json:"run_id,omitempty"`
	// Payload is the job's input, as the handler of its type reads it.
	Payload []byte `json:"payload"`
	// Timeout bounds one attempt at the job; the dispatcher waits this long
	// for a reply, and a worker that stops sending heartbeats for this long
	// loses the job to another.
	Timeout time.Duration `json:"timeout"`
}

// Result is a worker's reply to a job.
type Result struct {
	JobID string `json:"job_id"`
	// Payload is the handler's output (empty when Error is set).
	Payload []byte `json:"payload,omitempty"`
	// Error is the handler's failure, when it failed.
	Error string `json:"error,omitempty"`
	// Attempt counts deliveries of the job, from 1.
	Attempt int `json:"attempt"`
}
