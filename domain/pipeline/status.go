package pipeline

import "github.com/catalyst-forge/forge/domain/fault"

// Status is the state of a run, phase, task or step.
type Status string

// Statuses. A run ends success, failed or cancelled; a phase, task or step
// ends success, failed or skipped (never started because the run failed
// first or was cancelled).
const (
	StatusPending   Status = "pending"
	StatusRunning   Status = "running"
	StatusSuccess   Status = "success"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
	StatusSkipped   Status = "skipped"
)

// Terminal reports whether s never changes again.
func (s Status) Terminal() bool {
	switch s {
	case StatusSuccess, StatusFailed, StatusCancelled, StatusSkipped:
		return true
	}
	return false
}

// Kind says which entity a status belongs to; each allows its own set.
type Kind string

// The entities that carry a status.
const (
	KindRun   Kind = "run"
	KindPhase Kind = "phase"
	KindTask  Kind = "task"
	KindStep  Kind = "step"
)

// Valid reports whether s is a status entities of kind k can have.
func (k Kind) Valid(s Status) bool {
	switch s {
	case StatusPending, StatusRunning, StatusSuccess, StatusFailed:
		return true
	case StatusCancelled:
		return k == KindRun
	case StatusSkipped:
		return k != KindRun
	}
	return false
}

// Transition checks that an entity of kind k may go from one status to
// another. Repeating the current status is allowed and changes nothing, so
// a job seen twice reports twice without harm. Terminal states never
// change; anything else that is not a legal move is a conflict.
func Transition(k Kind, from, to Status) error {
	if !k.Valid(to) {
		return fault.New(fault.Validation, "%q is not a %s status", to, k)
	}
	if from == to {
		return nil
	}
	if from.Terminal() {
		return fault.New(fault.Conflict, "%s is already %s and cannot become %s", k, from, to)
	}
	if from == StatusRunning && to == StatusPending {
		return fault.New(fault.Conflict, "%s is running and cannot go back to pending", k)
	}
	return nil
}

// Reported checks a status that the worker doing a task or step reports,
// which is stricter than Transition: work starts (pending → running),
// ends only once it has started (running → success or failed), or never
// starts (pending → skipped). Repeating the current status is allowed and
// changes nothing. Anything else is a conflict, in particular a terminal
// status set ahead of the work, or changed once set.
func Reported(k Kind, from, to Status) error {
	if err := Transition(k, from, to); err != nil || from == to {
		return err
	}
	switch {
	case from == StatusPending && (to == StatusRunning || to == StatusSkipped):
		return nil
	case from == StatusRunning && (to == StatusSuccess || to == StatusFailed):
		return nil
	case from == StatusPending:
		return fault.New(fault.Conflict, "%s has not started and cannot become %s; it is reported running first", k, to)
	}
	return fault.New(fault.Conflict, "%s is %s and cannot become %s", k, from, to)
}
