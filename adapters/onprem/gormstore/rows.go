package gormstore

import (
	"encoding/json"
	"time"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
)

// The row types below map tables to Go for gorm; the domain types stay
// free of storage tags. Times are read back in UTC.

type repositoryRow struct {
	ID                string    `gorm:"column:id;primaryKey"`
	Name              string    `gorm:"column:name"`
	MaxConcurrentRuns int       `gorm:"column:max_concurrent_runs"`
	RunsPerMinute     int       `gorm:"column:runs_per_minute"`
	CreatedAt         time.Time `gorm:"column:created_at"`
	CreatedBy         string    `gorm:"column:created_by"`
}

func (repositoryRow) TableName() string { return "repositories" }

func repositoryToRow(r *repository.Repository) repositoryRow {
	return repositoryRow{ID: r.ID, Name: r.Name, MaxConcurrentRuns: r.Limits.MaxConcurrentRuns,
		RunsPerMinute: r.Limits.RunsPerMinute, CreatedAt: dbTime(r.CreatedAt), CreatedBy: r.CreatedBy}
}

func (r repositoryRow) domain() repository.Repository {
	return repository.Repository{ID: r.ID, Name: r.Name,
		Limits:    repository.Limits{MaxConcurrentRuns: r.MaxConcurrentRuns, RunsPerMinute: r.RunsPerMinute},
		CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy}
}

type runRow struct {
	ID               string     `gorm:"column:id;primaryKey"`
	Repository       string     `gorm:"column:repository"`
	Branch           string     `gorm:"column:branch"`
	CommitSHA        string     `gorm:"column:commit_sha"`
	TriggeredBy      string     `gorm:"column:triggered_by"`
	TriggerType      string     `gorm:"column:trigger_type"`
	Status           string     `gorm:"column:status"`
	CreatedAt        time.Time  `gorm:"column:created_at"`
	StartedAt        time.Time  `gorm:"column:started_at"`
	CompletedAt      *time.Time `gorm:"column:completed_at"`
	ArgoWorkflowName string     `gorm:"column:argo_workflow_name"`
	DiscoveryOutput  *string    `gorm:"column:discovery_output"`
	Reason           string     `gorm:"column:reason"`
	GitHubContext    *string    `gorm:"column:github_context"`
}

func (runRow) TableName() string { return "pipeline_runs" }

func runToRow(r *pipeline.Run) runRow {
	return runRow{ID: r.ID, Repository: r.Repository, Branch: r.Branch, CommitSHA: r.CommitSHA,
		TriggeredBy: r.TriggeredBy, TriggerType: string(r.TriggerType), Status: string(r.Status),
		CreatedAt: dbTime(r.CreatedAt), StartedAt: dbTime(r.StartedAt), CompletedAt: dbTimePtr(r.CompletedAt),
		ArgoWorkflowName: r.ArgoWorkflowName, DiscoveryOutput: jsonText(r.DiscoveryOutput), Reason: r.Reason,
		GitHubContext: githubText(r.GitHub)}
}

// githubText is a run's GitHub context as JSON text; nil without one.
func githubText(g *pipeline.GitHubContext) *string {
	if g == nil {
		return nil
	}
	b, _ := json.Marshal(g) // a struct of strings and an int always encodes
	return jsonText(b)
}

func (r runRow) domain() pipeline.Run {
	run := pipeline.Run{ID: r.ID, Repository: r.Repository, Branch: r.Branch, CommitSHA: r.CommitSHA,
		TriggeredBy: r.TriggeredBy, TriggerType: pipeline.TriggerType(r.TriggerType), Status: pipeline.Status(r.Status),
		CreatedAt: r.CreatedAt.UTC(), StartedAt: r.StartedAt.UTC(), CompletedAt: utcPtr(r.CompletedAt),
		ArgoWorkflowName: r.ArgoWorkflowName, Reason: r.Reason}
	if r.DiscoveryOutput != nil {
		run.DiscoveryOutput = json.RawMessage(*r.DiscoveryOutput)
	}
	if r.GitHubContext != nil {
		var g pipeline.GitHubContext
		if json.Unmarshal([]byte(*r.GitHubContext), &g) == nil {
			run.GitHub = &g
		}
	}
	return run
}

type phaseRow struct {
	ID            string     `gorm:"column:id;primaryKey"`
	PipelineRunID string     `gorm:"column:pipeline_run_id"`
	Name          string     `gorm:"column:phase_name"`
	GroupNumber   int        `gorm:"column:group_number"`
	Status        string     `gorm:"column:status"`
	StartedAt     *time.Time `gorm:"column:started_at"`
	CompletedAt   *time.Time `gorm:"column:completed_at"`
}

func (phaseRow) TableName() string { return "phase_executions" }

func phaseToRow(p *pipeline.Phase) phaseRow {
	return phaseRow{ID: p.ID, PipelineRunID: p.RunID, Name: p.Name, GroupNumber: p.GroupNumber,
		Status: string(p.Status), StartedAt: dbTimePtr(p.StartedAt), CompletedAt: dbTimePtr(p.CompletedAt)}
}

func (r phaseRow) domain() pipeline.Phase {
	return pipeline.Phase{ID: r.ID, RunID: r.PipelineRunID, Name: r.Name, GroupNumber: r.GroupNumber,
		Status: pipeline.Status(r.Status), StartedAt: utcPtr(r.StartedAt), CompletedAt: utcPtr(r.CompletedAt),
		Tasks: []pipeline.Task{}}
}

type taskRow struct {
	ID               string     `gorm:"column:id;primaryKey"`
	PhaseExecutionID string     `gorm:"column:phase_execution_id"`
	ProjectName      string     `gorm:"column:project_name"`
	ProjectPath      string     `gorm:"column:project_path"`
	Status           string     `gorm:"column:status"`
	StartedAt        *time.Time `gorm:"column:started_at"`
	CompletedAt      *time.Time `gorm:"column:completed_at"`
	Error            string     `gorm:"column:error"`
}

func (taskRow) TableName() string { return "task_executions" }

func taskToRow(t *pipeline.Task) taskRow {
	return taskRow{ID: t.ID, PhaseExecutionID: t.PhaseID, ProjectName: t.ProjectName, ProjectPath: t.ProjectPath,
		Status: string(t.Status), StartedAt: dbTimePtr(t.StartedAt), CompletedAt: dbTimePtr(t.CompletedAt), Error: t.Error}
}

func (r taskRow) domain() pipeline.Task {
	return pipeline.Task{ID: r.ID, PhaseID: r.PhaseExecutionID, ProjectName: r.ProjectName, ProjectPath: r.ProjectPath,
		Status: pipeline.Status(r.Status), StartedAt: utcPtr(r.StartedAt), CompletedAt: utcPtr(r.CompletedAt),
		Error: r.Error, Steps: []pipeline.Step{}}
}

type stepRow struct {
	ID              string     `gorm:"column:id;primaryKey"`
	TaskExecutionID string     `gorm:"column:task_execution_id"`
	Name            string     `gorm:"column:step_name"`
	Action          string     `gorm:"column:action"`
	Target          string     `gorm:"column:target"`
	Status          string     `gorm:"column:status"`
	StartedAt       *time.Time `gorm:"column:started_at"`
	CompletedAt     *time.Time `gorm:"column:completed_at"`
	ExitCode        *int       `gorm:"column:exit_code"`
	LogsKey         *string    `gorm:"column:logs_s3_key"`
}

func (stepRow) TableName() string { return "step_executions" }

func stepToRow(s *pipeline.Step) stepRow {
	return stepRow{ID: s.ID, TaskExecutionID: s.TaskID, Name: s.Name, Action: s.Action, Target: s.Target,
		Status: string(s.Status), StartedAt: dbTimePtr(s.StartedAt), CompletedAt: dbTimePtr(s.CompletedAt),
		ExitCode: copyInt(s.ExitCode), LogsKey: nullString(s.LogsKey)}
}

func (r stepRow) domain() pipeline.Step {
	return pipeline.Step{ID: r.ID, TaskID: r.TaskExecutionID, Name: r.Name, Action: r.Action, Target: r.Target,
		Status: pipeline.Status(r.Status), StartedAt: utcPtr(r.StartedAt), CompletedAt: utcPtr(r.CompletedAt),
		ExitCode: copyInt(r.ExitCode), LogsKey: deref(r.LogsKey)}
}

type releaseRow struct {
	ID            string    `gorm:"column:id;primaryKey"`
	Repository    string    `gorm:"column:repository"`
	Project       string    `gorm:"column:project"`
	CommitSHA     string    `gorm:"column:commit_sha"`
	Number        int       `gorm:"column:release_number"`
	PipelineRunID *string   `gorm:"column:pipeline_run_id"`
	OCIURI        string    `gorm:"column:oci_uri"`
	OCIDigest     string    `gorm:"column:oci_digest"`
	CreatedAt     time.Time `gorm:"column:created_at"`
	CreatedBy     string    `gorm:"column:created_by"`
}

func (releaseRow) TableName() string { return "releases" }

func (r releaseRow) domain() release.Release {
	return release.Release{ID: r.ID, Repository: r.Repository, Project: r.Project, CommitSHA: r.CommitSHA,
		Number: r.Number, PipelineRunID: copyString(r.PipelineRunID), OCIURI: r.OCIURI, OCIDigest: r.OCIDigest,
		CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy, Artifacts: []release.Artifact{}, Aliases: []release.Alias{}}
}

type aliasRow struct {
	ID         string `gorm:"column:id;primaryKey"`
	ReleaseID  string `gorm:"column:release_id"`
	Repository string `gorm:"column:repository"`
	Project    string `gorm:"column:project"`
	Alias      string `gorm:"column:alias"`
	Type       string `gorm:"column:alias_type"`
}

func (aliasRow) TableName() string { return "release_aliases" }

func (r aliasRow) domain() release.Alias {
	return release.Alias{ID: r.ID, ReleaseID: r.ReleaseID, Alias: r.Alias, Type: release.AliasType(r.Type)}
}

type triggerRow struct {
	ReleaseID   string    `gorm:"column:release_id;primaryKey"`
	Type        string    `gorm:"column:trigger_type"`
	Branch      *string   `gorm:"column:branch"`
	Tag         *string   `gorm:"column:tag"`
	TriggeredBy string    `gorm:"column:triggered_by"`
	TriggeredAt time.Time `gorm:"column:triggered_at"`
}

func (triggerRow) TableName() string { return "release_triggers" }

func (r triggerRow) domain() *release.Trigger {
	return &release.Trigger{Type: release.TriggerType(r.Type), Branch: deref(r.Branch), Tag: deref(r.Tag),
		TriggeredBy: r.TriggeredBy, TriggeredAt: r.TriggeredAt.UTC()}
}

type artifactRow struct {
	ID                  string    `gorm:"column:id;primaryKey"`
	ReleaseID           string    `gorm:"column:release_id"`
	Name                string    `gorm:"column:artifact_name"`
	Type                string    `gorm:"column:artifact_type"`
	TrackingOCIURI      string    `gorm:"column:tracking_oci_uri"`
	TrackingOCIDigest   string    `gorm:"column:tracking_oci_digest"`
	PrimaryPublishedURI string    `gorm:"column:primary_published_uri"`
	CreatedAt           time.Time `gorm:"column:created_at"`
}

func (artifactRow) TableName() string { return "release_artifacts" }

func (r artifactRow) domain() release.Artifact {
	return release.Artifact{ID: r.ID, ReleaseID: r.ReleaseID, Name: r.Name, Type: release.ArtifactType(r.Type),
		TrackingOCIURI: r.TrackingOCIURI, TrackingOCIDigest: r.TrackingOCIDigest,
		PrimaryPublishedURI: r.PrimaryPublishedURI, CreatedAt: r.CreatedAt.UTC()}
}

type deploymentRow struct {
	ID              string    `gorm:"column:id;primaryKey"`
	ReleaseID       string    `gorm:"column:release_id"`
	Repository      string    `gorm:"column:repository"`
	Project         string    `gorm:"column:project"`
	ReleaseNumber   int       `gorm:"column:release_number"`
	Environment     string    `gorm:"column:environment"`
	Status          string    `gorm:"column:status"`
	DeployedAt      time.Time `gorm:"column:deployed_at"`
	DeployedBy      string    `gorm:"column:deployed_by"`
	GitOpsCommitSHA string    `gorm:"column:gitops_commit_sha"`
	ApprovalID      *string   `gorm:"column:approval_id"`
	Reason          string    `gorm:"column:reason"`
	RollbackOf      *string   `gorm:"column:rollback_of"`
}

func (deploymentRow) TableName() string { return "deployments" }

func deploymentToRow(d *release.Deployment) deploymentRow {
	return deploymentRow{ID: d.ID, ReleaseID: d.ReleaseID, Repository: d.Repository, Project: d.Project,
		ReleaseNumber: d.ReleaseNumber, Environment: d.Environment, Status: string(d.Status),
		DeployedAt: dbTime(d.DeployedAt), DeployedBy: d.DeployedBy, GitOpsCommitSHA: d.GitOpsCommitSHA,
		ApprovalID: copyString(d.ApprovalID), Reason: d.Reason, RollbackOf: copyString(d.RollbackOf)}
}

func (r deploymentRow) domain() release.Deployment {
	return release.Deployment{ID: r.ID, ReleaseID: r.ReleaseID, Repository: r.Repository, Project: r.Project,
		ReleaseNumber: r.ReleaseNumber, Environment: r.Environment, Status: release.DeploymentStatus(r.Status),
		DeployedAt: r.DeployedAt.UTC(), DeployedBy: r.DeployedBy, GitOpsCommitSHA: r.GitOpsCommitSHA,
		ApprovalID: copyString(r.ApprovalID), Reason: r.Reason, RollbackOf: copyString(r.RollbackOf)}
}

type approvalRow struct {
	ID            string     `gorm:"column:id;primaryKey"`
	ReleaseID     string     `gorm:"column:release_id"`
	Environment   string     `gorm:"column:environment"`
	Approver      string     `gorm:"column:approver"`
	ApprovedAt    time.Time  `gorm:"column:approved_at"`
	ExpiresAt     *time.Time `gorm:"column:expires_at"`
	Justification string     `gorm:"column:justification"`
	Status        string     `gorm:"column:status"`
}

func (approvalRow) TableName() string { return "release_approvals" }

func approvalToRow(a *release.Approval) approvalRow {
	return approvalRow{ID: a.ID, ReleaseID: a.ReleaseID, Environment: a.Environment, Approver: a.Approver,
		ApprovedAt: dbTime(a.ApprovedAt), ExpiresAt: dbTimePtr(a.ExpiresAt), Justification: a.Justification,
		Status: string(a.Status)}
}

func (r approvalRow) domain() release.Approval {
	return release.Approval{ID: r.ID, ReleaseID: r.ReleaseID, Environment: r.Environment, Approver: r.Approver,
		ApprovedAt: r.ApprovedAt.UTC(), ExpiresAt: utcPtr(r.ExpiresAt), Justification: r.Justification,
		Status: release.ApprovalStatus(r.Status)}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

func copyInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func copyString(p *string) *string {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// jsonText stores a JSON document as text (jsonb takes text too); an empty
// one is NULL.
func jsonText(m json.RawMessage) *string {
	if len(m) == 0 {
		return nil
	}
	s := string(m)
	return &s
}

// The clones below give an update closure its own copy of an entity's
// children, so what it changes there never leaks into what the store
// returns.

func clonePhases(ps []pipeline.Phase) []pipeline.Phase {
	if ps == nil {
		return nil
	}
	out := make([]pipeline.Phase, len(ps))
	for i, p := range ps {
		p.StartedAt, p.CompletedAt = utcPtr(p.StartedAt), utcPtr(p.CompletedAt)
		p.Tasks = cloneTasks(p.Tasks)
		out[i] = p
	}
	return out
}

func cloneTasks(ts []pipeline.Task) []pipeline.Task {
	if ts == nil {
		return nil
	}
	out := make([]pipeline.Task, len(ts))
	for i, t := range ts {
		t.StartedAt, t.CompletedAt = utcPtr(t.StartedAt), utcPtr(t.CompletedAt)
		t.Steps = cloneSteps(t.Steps)
		out[i] = t
	}
	return out
}

func cloneSteps(ss []pipeline.Step) []pipeline.Step {
	if ss == nil {
		return nil
	}
	out := make([]pipeline.Step, len(ss))
	for i, s := range ss {
		s.StartedAt, s.CompletedAt, s.ExitCode = utcPtr(s.StartedAt), utcPtr(s.CompletedAt), copyInt(s.ExitCode)
		out[i] = s
	}
	return out
}
