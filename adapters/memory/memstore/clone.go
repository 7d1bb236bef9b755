package memstore

import (
	"slices"
	"time"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
)

// The clone functions make deep copies, so that the store and its callers
// never share memory, and put every time in UTC as a database would.

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := utc(*t)
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func cloneRepository(r *repository.Repository) *repository.Repository {
	c := *r
	c.CreatedAt = utc(r.CreatedAt)
	return &c
}

func cloneRun(r *pipeline.Run) *pipeline.Run {
	c := *r
	c.CreatedAt = utc(r.CreatedAt)
	c.StartedAt = utc(r.StartedAt)
	c.CompletedAt = cloneTime(r.CompletedAt)
	c.DiscoveryOutput = slices.Clone(r.DiscoveryOutput)
	if r.GitHub != nil {
		g := *r.GitHub
		c.GitHub = &g
	}
	c.Phases = clonePhases(r.Phases)
	return &c
}

func clonePhases(ps []pipeline.Phase) []pipeline.Phase {
	if ps == nil {
		return nil
	}
	out := make([]pipeline.Phase, len(ps))
	for i := range ps {
		out[i] = clonePhase(ps[i])
	}
	return out
}

func clonePhase(p pipeline.Phase) pipeline.Phase {
	p.StartedAt = cloneTime(p.StartedAt)
	p.CompletedAt = cloneTime(p.CompletedAt)
	if p.Tasks != nil {
		tasks := make([]pipeline.Task, len(p.Tasks))
		for i := range p.Tasks {
			tasks[i] = cloneTask(p.Tasks[i])
		}
		p.Tasks = tasks
	}
	return p
}

func cloneTask(t pipeline.Task) pipeline.Task {
	t.StartedAt = cloneTime(t.StartedAt)
	t.CompletedAt = cloneTime(t.CompletedAt)
	if t.Steps != nil {
		steps := make([]pipeline.Step, len(t.Steps))
		for i := range t.Steps {
			steps[i] = cloneStep(t.Steps[i])
		}
		t.Steps = steps
	}
	return t
}

func cloneStep(s pipeline.Step) pipeline.Step {
	s.StartedAt = cloneTime(s.StartedAt)
	s.CompletedAt = cloneTime(s.CompletedAt)
	s.ExitCode = clonePtr(s.ExitCode)
	return s
}

func cloneRelease(r *release.Release) *release.Release {
	c := *r
	c.CreatedAt = utc(r.CreatedAt)
	c.PipelineRunID = clonePtr(r.PipelineRunID)
	if r.Trigger != nil {
		t := *r.Trigger
		t.TriggeredAt = utc(t.TriggeredAt)
		c.Trigger = &t
	}
	c.Aliases = slices.Clone(r.Aliases)
	if r.Artifacts != nil {
		c.Artifacts = make([]release.Artifact, len(r.Artifacts))
		for i, a := range r.Artifacts {
			a.CreatedAt = utc(a.CreatedAt)
			c.Artifacts[i] = a
		}
	}
	return &c
}

func cloneDeployment(d *release.Deployment) *release.Deployment {
	c := *d
	c.DeployedAt = utc(d.DeployedAt)
	c.ApprovalID = clonePtr(d.ApprovalID)
	c.RollbackOf = clonePtr(d.RollbackOf)
	return &c
}

func cloneApproval(a *release.Approval) *release.Approval {
	c := *a
	c.ApprovedAt = utc(a.ApprovedAt)
	c.ExpiresAt = cloneTime(a.ExpiresAt)
	return &c
}
