package pipeline

import (
	"encoding/json"
	"time"
)

// TriggerType says what started a run.
type TriggerType string

// The trigger types of a run.
const (
	TriggerPush        TriggerType = "push"
	TriggerPullRequest TriggerType = "pull_request"
	TriggerManual      TriggerType = "manual"
)

// Valid reports whether t is a known trigger type.
func (t TriggerType) Valid() bool {
	return t == TriggerPush || t == TriggerPullRequest || t == TriggerManual
}

// Run is one execution of the pipeline for a commit of a repository.
// (repository, commit) is unique: creating it again returns the same run.
type Run struct {
	ID               string          `json:"id"`
	Repository       string          `json:"repository"`
	Branch           string          `json:"branch"`
	CommitSHA        string          `json:"commit_sha"`
	TriggeredBy      string          `json:"triggered_by"`
	TriggerType      TriggerType     `json:"trigger_type"`
	Status           Status          `json:"status"`
	CreatedAt        time.Time       `json:"created_at"`
	StartedAt        time.Time       `json:"started_at"`
	CompletedAt      *time.Time      `json:"completed_at"`
	ArgoWorkflowName string          `json:"argo_workflow_name,omitempty"`
	DiscoveryOutput  json.RawMessage `json:"discovery_output,omitempty"`
	// Reason says why a run failed or was cancelled, when known.
	Reason string `json:"reason,omitempty"`
	// GitHub says where on GitHub the run's statuses and summary go, when
	// a GitHub workflow started it (spec 03's github_context).
	GitHub *GitHubContext `json:"github_context,omitempty"`
	Phases []Phase        `json:"phases"`
}

// Phase is the execution of one CI phase within a run.
type Phase struct {
	ID          string     `json:"id"`
	RunID       string     `json:"-"`
	Name        string     `json:"name"`
	GroupNumber int        `json:"group_number"`
	Status      Status     `json:"status"`
	StartedAt   *time.Time `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
	Tasks       []Task     `json:"tasks"`
}

// Task is the execution of one project's steps within a phase.
type Task struct {
	ID          string     `json:"id"`
	PhaseID     string     `json:"-"`
	ProjectName string     `json:"project_name"`
	ProjectPath string     `json:"project_path"`
	Status      Status     `json:"status"`
	StartedAt   *time.Time `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
	Error       string     `json:"error,omitempty"`
	Steps       []Step     `json:"steps"`
}

// Step is the execution of one step of a task.
type Step struct {
	ID          string     `json:"id"`
	TaskID      string     `json:"-"`
	Name        string     `json:"step_name"`
	Action      string     `json:"action"`
	Target      string     `json:"target"`
	Status      Status     `json:"status"`
	StartedAt   *time.Time `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
	ExitCode    *int       `json:"exit_code"`
	LogsKey     string     `json:"logs_s3_key,omitempty"`
}

// StatusChange is a status update of a task or step, as a worker reports it.
type StatusChange struct {
	Status   Status
	At       time.Time
	Error    string // tasks: why it failed
	ExitCode *int   // steps
	LogsKey  string // steps
}

// Apply sets the timestamps a status implies: StartedAt when work starts
// (or ends without a recorded start), CompletedAt when it ends.
func Apply(status Status, at time.Time, started, completed **time.Time) {
	t := at.UTC()
	if status == StatusRunning && *started == nil {
		*started = &t
	}
	if status.Terminal() {
		if *started == nil && status != StatusSkipped {
			*started = &t
		}
		if *completed == nil {
			*completed = &t
		}
	}
}

// Place is where a task or a step sits in its run, with the statuses a
// worker's report is checked against: what a status report needs, read
// without loading the run. The Step fields are empty for a task.
type Place struct {
	RunID       string
	RunStatus   Status
	PhaseName   string
	PhaseStatus Status
	TaskID      string
	TaskProject string
	TaskStatus  Status
	StepID      string
	StepName    string
	StepStatus  Status
}

// ObjectsPrefix is where everything a run stores in the object store lies
// (its step logs, its artifacts' and releases' outcomes): the keys of all
// of them start with it, and retention deletes what is under it.
func ObjectsPrefix(runID string) string { return "pipeline-runs/" + runID + "/" }
