package running

import (
	"context"
	"io"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
)

// StepLog is an open step log: the bytes from the requested offset, and
// whether the step has finished (a follower stops when a finished step's
// log has no more bytes).
type StepLog struct {
	Body     io.ReadCloser
	Size     int64
	Finished bool
}

// Log opens the log of a step from offset on. A step that has not stored
// a log yet is NotFound while it has not finished (a follower retries),
// and NotFound with a message saying so once it has.
func (s *Service) Log(ctx context.Context, who *identity.Principal, stepID string, offset int64) (*StepLog, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return nil, err
	}
	if s.Objects == nil {
		return nil, fault.New(fault.Unavailable, "this server has no object store for logs")
	}
	if offset < 0 {
		return nil, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "offset"}, Message: "offset must not be negative"}
	}
	step, err := s.Store.GetStep(ctx, stepID)
	if err != nil {
		return nil, err
	}
	finished := step.Status.Terminal()
	if step.LogsKey == "" {
		return nil, fault.New(fault.NotFound, "step %s has no log yet (it is %s)", step.ID, step.Status)
	}
	body, info, err := s.Objects.Get(ctx, step.LogsKey, offset)
	if err != nil {
		return nil, err
	}
	return &StepLog{Body: body, Size: info.Size, Finished: finished}, nil
}
