package pipeline

import (
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

func TestTransition(t *testing.T) {
	cases := []struct {
		kind     Kind
		from, to Status
		want     fault.Kind // "" for allowed
	}{
		{KindRun, StatusPending, StatusRunning, ""},
		{KindRun, StatusRunning, StatusSuccess, ""},
		{KindRun, StatusRunning, StatusFailed, ""},
		{KindRun, StatusRunning, StatusCancelled, ""},
		{KindRun, StatusPending, StatusCancelled, ""},
		{KindRun, StatusRunning, StatusRunning, ""}, // repeated report
		{KindRun, StatusSuccess, StatusSuccess, ""},
		{KindRun, StatusSuccess, StatusFailed, fault.Conflict},
		{KindRun, StatusCancelled, StatusRunning, fault.Conflict},
		{KindRun, StatusRunning, StatusPending, fault.Conflict},
		{KindRun, StatusRunning, StatusSkipped, fault.Validation},
		{KindStep, StatusPending, StatusSkipped, ""},
		{KindStep, StatusRunning, StatusCancelled, fault.Validation},
		{KindStep, StatusSkipped, StatusRunning, fault.Conflict},
		{KindStep, StatusFailed, StatusSuccess, fault.Conflict},
		{KindTask, StatusPending, StatusFailed, ""},
		{KindPhase, StatusPending, "bogus", fault.Validation},
	}
	for _, c := range cases {
		err := Transition(c.kind, c.from, c.to)
		if got := fault.KindOf(err); got != c.want {
			t.Errorf("Transition(%s, %s → %s) = %v, want kind %q", c.kind, c.from, c.to, err, c.want)
		}
	}
}

func TestApplySetsTimes(t *testing.T) {
	t1 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	t2 := t1.Add(time.Minute)
	var started, completed *time.Time
	Apply(StatusRunning, t1, &started, &completed)
	if started == nil || !started.Equal(t1) || started.Location() != time.UTC || completed != nil {
		t.Fatalf("running: started %v completed %v", started, completed)
	}
	Apply(StatusSuccess, t2, &started, &completed)
	if !started.Equal(t1) || completed == nil || !completed.Equal(t2) {
		t.Fatalf("success: started %v completed %v", started, completed)
	}
	started, completed = nil, nil
	Apply(StatusSkipped, t2, &started, &completed)
	if started != nil || completed == nil {
		t.Fatalf("skipped never started: started %v completed %v", started, completed)
	}
	started, completed = nil, nil
	Apply(StatusFailed, t2, &started, &completed)
	if started == nil || completed == nil {
		t.Fatalf("failed without a start: started %v completed %v", started, completed)
	}
}

func TestTriggerTypeValid(t *testing.T) {
	for _, tt := range []TriggerType{TriggerPush, TriggerPullRequest, TriggerManual} {
		if !tt.Valid() {
			t.Errorf("%s not valid", tt)
		}
	}
	if TriggerType("cron").Valid() {
		t.Error("cron is valid")
	}
}

// TestReported: a worker's reports move a task or step only forward, and
// a terminal status only from running (or skipped from pending).
func TestReported(t *testing.T) {
	cases := []struct {
		kind     Kind
		from, to Status
		want     fault.Kind // "" for allowed
	}{
		{KindStep, StatusPending, StatusRunning, ""},
		{KindStep, StatusRunning, StatusSuccess, ""},
		{KindStep, StatusRunning, StatusFailed, ""},
		{KindStep, StatusPending, StatusSkipped, ""},
		{KindStep, StatusRunning, StatusRunning, ""},
		{KindStep, StatusFailed, StatusFailed, ""},
		{KindStep, StatusPending, StatusSuccess, fault.Conflict},
		{KindStep, StatusPending, StatusFailed, fault.Conflict},
		{KindStep, StatusRunning, StatusSkipped, fault.Conflict},
		{KindStep, StatusSuccess, StatusFailed, fault.Conflict},
		{KindTask, StatusPending, StatusFailed, fault.Conflict},
		{KindTask, StatusSkipped, StatusRunning, fault.Conflict},
		{KindTask, StatusRunning, StatusCancelled, fault.Validation},
	}
	for _, c := range cases {
		err := Reported(c.kind, c.from, c.to)
		if got := fault.KindOf(err); got != c.want {
			t.Errorf("Reported(%s, %s → %s) = %v, want kind %q", c.kind, c.from, c.to, err, c.want)
		}
	}
}
