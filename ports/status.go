package ports

import (
	"context"

	"github.com/catalyst-forge/forge/domain/pipeline"
)

// StatusReporter tells the outside world (a commit status on GitHub, a
// log) how a run is going, at the points of spec 03: created, discovery
// complete, each phase group, finished.
type StatusReporter interface {
	// Report announces that run reached a point, with a description such as
	// "Running phase 1 of 3". Reporting the same point twice is harmless.
	// Errors: Unavailable. Safe for concurrent use.
	Report(ctx context.Context, run *pipeline.Run, point StatusPoint, description string) error
}

// StatusPoint is a moment of a run worth announcing.
type StatusPoint string

// The status points of spec 03.
const (
	StatusCreated           StatusPoint = "created"
	StatusDiscoveryComplete StatusPoint = "discovery-complete"
	StatusPhase             StatusPoint = "phase"
	StatusFinished          StatusPoint = "finished"
)
