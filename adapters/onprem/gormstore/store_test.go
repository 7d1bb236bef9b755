package gormstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
	"github.com/google/uuid"
)

// sha returns a distinct full commit SHA for i; every one starts abcdef0
// (for i < 16), and sha(i)[:8] tells them apart.
func sha(i int) string { return fmt.Sprintf("abcdef%02x%032x", i, i) }

// must returns v, and panics (failing the test with a stack) on err.
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("unexpected error: %v", err))
	}
	return v
}

func wantKind(t *testing.T, what string, err error, k fault.Kind) {
	t.Helper()
	if !fault.Is(err, k) {
		t.Fatalf("%s = %v, want %s", what, err, k)
	}
}

func TestRepositoryRoundTrip(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := migrated(t, dsn)
		in := &repository.Repository{Name: "acme/monorepo", Limits: repository.Limits{MaxConcurrentRuns: 5, RunsPerMinute: 7}, CreatedBy: "alice"}
		got, created, err := s.CreateRepository(ctx, in)
		if err != nil || !created || got.ID == "" || got.CreatedAt.IsZero() {
			t.Fatalf("CreateRepository = %+v, %v, %v", got, created, err)
		}
		again, created, err := s.CreateRepository(ctx, &repository.Repository{Name: "acme/monorepo", CreatedBy: "bob"})
		if err != nil || created || again.ID != got.ID || again.CreatedBy != "alice" {
			t.Fatalf("second CreateRepository = %+v, %v, %v; want the first, created=false", again, created, err)
		}
		read := must(s.GetRepository(ctx, "acme/monorepo"))
		if !reflect.DeepEqual(read, got) {
			t.Fatalf("GetRepository = %+v, want %+v", read, got)
		}
		_, err = s.GetRepository(ctx, "acme/other")
		wantKind(t, "GetRepository(unknown)", err, fault.NotFound)
		_, _, err = s.CreateRepository(ctx, &repository.Repository{Name: "acme/a-second"})
		if err != nil {
			t.Fatal(err)
		}
		list, total, err := s.ListRepositories(ctx, ports.Page{Limit: 1})
		if err != nil || total != 2 || len(list) != 1 || list[0].Name != "acme/a-second" {
			t.Fatalf("ListRepositories = %+v, %d, %v", list, total, err)
		}
	})
}

func TestRunRoundTrip(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := migrated(t, dsn)
		started := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
		in := &pipeline.Run{Repository: "acme/mono", Branch: "main", CommitSHA: sha(1), TriggeredBy: "alice",
			TriggerType: pipeline.TriggerPush, StartedAt: started, DiscoveryOutput: json.RawMessage(`{"projects": ["a", "b"]}`)}
		run, created, err := s.CreateRun(ctx, in)
		if err != nil || !created {
			t.Fatalf("CreateRun = %v, %v", created, err)
		}
		if run.Status != pipeline.StatusPending || !run.StartedAt.Equal(started.Truncate(time.Microsecond)) || run.StartedAt.Location() != time.UTC {
			t.Fatalf("CreateRun returned %+v", run)
		}
		again, created, err := s.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: sha(1), Branch: "other"})
		if err != nil || created || again.ID != run.ID || again.Branch != "main" {
			t.Fatalf("second CreateRun = %+v, %v, %v; want the first run, created=false", again, created, err)
		}

		code := 0
		phases := []pipeline.Phase{
			{Name: "release", GroupNumber: 2, Tasks: []pipeline.Task{{ProjectName: "api", ProjectPath: "services/api",
				Steps: []pipeline.Step{{Name: "publish", Action: "earthly", Target: "+publish"}}}}},
			{Name: "test", GroupNumber: 1, Tasks: []pipeline.Task{
				{ProjectName: "web", Steps: []pipeline.Step{{Name: "zeta"}, {Name: "alpha"}, {Name: "mid"}}},
				{ProjectName: "api", Steps: []pipeline.Step{{Name: "unit", Action: "earthly", Target: "+test"}}},
			}},
		}
		saved := must(s.AddPhases(ctx, run.ID, phases))
		if len(saved) != 2 || saved[0].Name != "test" || saved[1].Name != "release" {
			t.Fatalf("AddPhases returned %+v; want test then release", saved)
		}
		if saved[0].Tasks[0].ProjectName != "api" || saved[0].Tasks[1].ProjectName != "web" {
			t.Fatalf("tasks not by project name: %+v", saved[0].Tasks)
		}
		var names []string
		for _, st := range saved[0].Tasks[1].Steps {
			names = append(names, st.Name)
		}
		if !reflect.DeepEqual(names, []string{"zeta", "alpha", "mid"}) {
			t.Fatalf("steps = %v, want the order they were added", names)
		}
		second := must(s.AddPhases(ctx, run.ID, []pipeline.Phase{{Name: "other"}}))
		if !reflect.DeepEqual(second, saved) {
			t.Fatalf("second AddPhases = %+v, want the first plan unchanged", second)
		}
		_, err = s.AddPhases(ctx, uuid.NewString(), phases)
		wantKind(t, "AddPhases(unknown run)", err, fault.NotFound)

		got := must(s.GetRun(ctx, run.ID))
		if !reflect.DeepEqual(got.Phases, saved) {
			t.Fatalf("GetRun phases = %+v, want %+v", got.Phases, saved)
		}
		var doc, want any
		_ = json.Unmarshal(got.DiscoveryOutput, &doc)
		_ = json.Unmarshal(in.DiscoveryOutput, &want)
		if !reflect.DeepEqual(doc, want) {
			t.Fatalf("discovery output = %s, want %s", got.DiscoveryOutput, in.DiscoveryOutput)
		}

		task := saved[0].Tasks[1]
		step := task.Steps[0]
		if p := must(s.PlaceOfTask(ctx, task.ID)); p.RunID != run.ID {
			t.Fatalf("PlaceOfTask's run = %s, want %s", p.RunID, run.ID)
		}
		if p := must(s.PlaceOfStep(ctx, step.ID)); p.RunID != run.ID {
			t.Fatalf("PlaceOfStep's run = %s, want %s", p.RunID, run.ID)
		}
		now := time.Now()
		upd := must(s.UpdateStep(ctx, step.ID, func(st *pipeline.Step) error {
			st.Status = pipeline.StatusSuccess
			st.ExitCode = &code
			st.LogsKey = "logs/1"
			pipeline.Apply(st.Status, now, &st.StartedAt, &st.CompletedAt)
			st.Name = "ignored"
			return nil
		}))
		if upd.Status != pipeline.StatusSuccess || upd.ExitCode == nil || *upd.ExitCode != 0 || upd.LogsKey != "logs/1" || upd.CompletedAt == nil || upd.Name != "zeta" {
			t.Fatalf("UpdateStep = %+v", upd)
		}
		if st := must(s.GetStep(ctx, step.ID)); !reflect.DeepEqual(st, upd) {
			t.Fatalf("GetStep = %+v, want %+v", st, upd)
		}
		_, err = s.UpdateStep(ctx, step.ID, func(st *pipeline.Step) error { st.Status = pipeline.StatusRunning; return nil })
		wantKind(t, "UpdateStep(success -> running)", err, fault.Conflict)
		_, err = s.UpdateStep(ctx, step.ID, func(st *pipeline.Step) error { st.Status = "bogus"; return nil })
		wantKind(t, "UpdateStep(bogus)", err, fault.Validation)
		boom := errors.New("boom")
		if _, err := s.UpdateStep(ctx, step.ID, func(*pipeline.Step) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("UpdateStep's closure error came back as %v", err)
		}

		tk := must(s.UpdateTask(ctx, task.ID, func(tk *pipeline.Task) error {
			tk.Status = pipeline.StatusFailed
			tk.Error = "unit failed"
			pipeline.Apply(tk.Status, now, &tk.StartedAt, &tk.CompletedAt)
			return nil
		}))
		if tk.Status != pipeline.StatusFailed || tk.Error != "unit failed" || len(tk.Steps) != 3 {
			t.Fatalf("UpdateTask = %+v", tk)
		}
		if got := must(s.GetTask(ctx, task.ID)); !reflect.DeepEqual(got, tk) {
			t.Fatalf("GetTask = %+v, want %+v", got, tk)
		}
		ph := must(s.UpdatePhase(ctx, saved[0].ID, func(p *pipeline.Phase) error { p.Status = pipeline.StatusRunning; return nil }))
		if ph.Status != pipeline.StatusRunning || len(ph.Tasks) != 2 {
			t.Fatalf("UpdatePhase = %+v", ph)
		}

		r := must(s.UpdateRun(ctx, run.ID, func(r *pipeline.Run) error {
			r.Status = pipeline.StatusFailed
			r.Reason = "unit failed"
			r.ArgoWorkflowName = "wf-1"
			r.CompletedAt = &now
			r.Branch = "ignored"
			return nil
		}))
		if r.Status != pipeline.StatusFailed || r.Reason != "unit failed" || r.ArgoWorkflowName != "wf-1" || r.Branch != "main" ||
			r.CompletedAt == nil || !r.CompletedAt.Equal(now.Truncate(time.Microsecond)) {
			t.Fatalf("UpdateRun = %+v", r)
		}
		_, err = s.UpdateRun(ctx, run.ID, func(r *pipeline.Run) error { r.Status = pipeline.StatusRunning; return nil })
		wantKind(t, "UpdateRun(failed -> running)", err, fault.Conflict)

		for i := 2; i <= 4; i++ {
			must(func() (*pipeline.Run, error) {
				r, _, err := s.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", Branch: "dev", CommitSHA: sha(i)})
				return r, err
			}())
		}
		must(func() (*pipeline.Run, error) {
			r, _, err := s.CreateRun(ctx, &pipeline.Run{Repository: "acme/other", CommitSHA: sha(1)})
			return r, err
		}())
		runs, total, err := s.ListRuns(ctx, ports.RunFilter{Repository: "acme/mono", Branch: "dev"}, ports.Page{Limit: 2})
		if err != nil || total != 3 || len(runs) != 2 || runs[0].CommitSHA != sha(4) || runs[1].CommitSHA != sha(3) || runs[0].Phases != nil {
			t.Fatalf("ListRuns = %+v, %d, %v; want the newest two of three", runs, total, err)
		}
		_, total, _ = s.ListRuns(ctx, ports.RunFilter{Status: pipeline.StatusFailed}, ports.Page{})
		if total != 1 {
			t.Fatalf("ListRuns(failed) total = %d, want 1", total)
		}
		if n := must(s.CountActiveRuns(ctx, "acme/mono")); n != 3 {
			t.Fatalf("CountActiveRuns = %d, want 3", n)
		}

		for _, id := range []string{"not-a-uuid", uuid.NewString()} {
			_, err = s.GetRun(ctx, id)
			wantKind(t, "GetRun("+id+")", err, fault.NotFound)
			_, err = s.GetTask(ctx, id)
			wantKind(t, "GetTask("+id+")", err, fault.NotFound)
			_, err = s.PlaceOfStep(ctx, id)
			wantKind(t, "PlaceOfStep("+id+")", err, fault.NotFound)
			_, err = s.UpdateRun(ctx, id, func(*pipeline.Run) error { return nil })
			wantKind(t, "UpdateRun("+id+")", err, fault.NotFound)
		}
		_, _, err = s.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: sha(9), Status: "bogus"})
		wantKind(t, "CreateRun(bogus status)", err, fault.Validation)
	})
}

func TestReleaseRoundTrip(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := migrated(t, dsn)
		run, _, err := s.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: sha(1)})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		in := &release.Release{Repository: "acme/mono", Project: "api", CommitSHA: sha(1), PipelineRunID: &run.ID,
			OCIURI: "reg/acme/api:" + sha(1), OCIDigest: "sha256:aa", CreatedBy: "ci",
			Trigger: &release.Trigger{Type: release.TriggerTag, Tag: "v1.0.0", TriggeredBy: "ci", TriggeredAt: at},
			Artifacts: []release.Artifact{
				{Name: "server", Type: "container", TrackingOCIURI: "reg/track/server", PrimaryPublishedURI: "reg/server:v1"},
				{Name: "cli", Type: "binary", TrackingOCIURI: "reg/track/cli"},
			},
			Aliases: []release.Alias{{Alias: "v1.0.0", Type: release.AliasTag}}}
		r1, created, err := s.CreateRelease(ctx, in)
		if err != nil || !created || r1.Number != 1 {
			t.Fatalf("CreateRelease = %+v, %v, %v", r1, created, err)
		}
		wantAliases := []release.Alias{{Alias: "1", Type: release.AliasNumeric}, {Alias: "v1.0.0", Type: release.AliasTag}}
		if len(r1.Aliases) != 2 || r1.Aliases[0].Alias != "1" || r1.Aliases[1].Alias != "v1.0.0" || r1.Aliases[1].Type != release.AliasTag {
			t.Fatalf("aliases = %+v, want %+v", r1.Aliases, wantAliases)
		}
		if len(r1.Artifacts) != 2 || r1.Artifacts[0].Name != "server" || r1.Artifacts[1].Name != "cli" || r1.Artifacts[0].ID == "" {
			t.Fatalf("artifacts = %+v", r1.Artifacts)
		}
		if r1.Trigger == nil || r1.Trigger.Tag != "v1.0.0" || !r1.Trigger.TriggeredAt.Equal(at) || *r1.PipelineRunID != run.ID {
			t.Fatalf("trigger/run = %+v, %v", r1.Trigger, r1.PipelineRunID)
		}
		if got := must(s.GetRelease(ctx, r1.ID)); !reflect.DeepEqual(got, r1) {
			t.Fatalf("GetRelease = %+v\nwant %+v", got, r1)
		}
		again, created, err := s.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "api", CommitSHA: sha(1)})
		if err != nil || created || again.ID != r1.ID || again.Number != 1 {
			t.Fatalf("second CreateRelease = %+v, %v, %v; want the first", again, created, err)
		}

		// An alias of another release is a conflict, and costs no number.
		_, _, err = s.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "api", CommitSHA: sha(2),
			Aliases: []release.Alias{{Alias: "v1.0.0", Type: release.AliasTag}}})
		wantKind(t, "CreateRelease(taken alias)", err, fault.Conflict)
		r2, _, err := s.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "api", CommitSHA: sha(2)})
		if err != nil || r2.Number != 2 {
			t.Fatalf("CreateRelease after a conflict = %+v, %v; want number 2", r2, err)
		}
		other, _, err := s.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "web", CommitSHA: sha(1),
			Aliases: []release.Alias{{Alias: "v1.0.0", Type: release.AliasTag}}})
		if err != nil || other.Number != 1 {
			t.Fatalf("another project's release = %+v, %v; want number 1 and its own v1.0.0", other, err)
		}

		if err := s.AddAlias(ctx, r2.ID, release.BranchAlias("main", 2)); err != nil {
			t.Fatal(err)
		}
		if err := s.AddAlias(ctx, r2.ID, release.BranchAlias("main", 2)); err != nil {
			t.Fatalf("AddAlias again: %v, want idempotent", err)
		}
		wantKind(t, "AddAlias(taken)", s.AddAlias(ctx, r2.ID, release.Alias{Alias: "v1.0.0", Type: release.AliasTag}), fault.Conflict)
		wantKind(t, "AddAlias(unknown release)", s.AddAlias(ctx, uuid.NewString(), release.Alias{Alias: "x", Type: release.AliasCustom}), fault.NotFound)

		f := s.FindRelease("acme/mono", "api")
		for id, want := range map[string]int{"v1.0.0": 1, "main-2": 2, "2": 2, sha(2)[:8]: 2, sha(1): 1} {
			got, err := release.Resolve(ctx, f, id)
			if err != nil || got.Number != want {
				t.Fatalf("Resolve(%q) = %+v, %v; want release %d", id, got, err, want)
			}
		}
		_, err = release.Resolve(ctx, f, "abcdef0")
		wantKind(t, "Resolve(ambiguous prefix)", err, fault.Conflict)
		_, err = release.Resolve(ctx, f, "v9")
		wantKind(t, "Resolve(unknown)", err, fault.NotFound)

		list, total, err := s.ListReleases(ctx, "acme/mono", "api", ports.Page{})
		if err != nil || total != 2 || len(list) != 2 || list[0].Number != 2 || len(list[0].Aliases) != 2 || len(list[1].Artifacts) != 2 {
			t.Fatalf("ListReleases = %+v, %d, %v", list, total, err)
		}
		_, err = s.GetRelease(ctx, uuid.NewString())
		wantKind(t, "GetRelease(unknown)", err, fault.NotFound)
	})
}

func newRelease(t *testing.T, s ports.Store, project string, i int) *release.Release {
	t.Helper()
	r, _, err := s.CreateRelease(context.Background(), &release.Release{Repository: "acme/mono", Project: project, CommitSHA: sha(i)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDeploymentRoundTrip(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := migrated(t, dsn)
		r1, r2 := newRelease(t, s, "api", 1), newRelease(t, s, "api", 2)
		base := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)

		d1 := must(s.CreateDeployment(ctx, &release.Deployment{ReleaseID: r1.ID, Environment: "dev",
			Status: release.DeploymentActive, DeployedAt: base, DeployedBy: "alice"}))
		if d1.Repository != "acme/mono" || d1.Project != "api" || d1.ReleaseNumber != 1 {
			t.Fatalf("CreateDeployment did not copy the release's identity: %+v", d1)
		}
		prod := must(s.CreateDeployment(ctx, &release.Deployment{ReleaseID: r1.ID, Environment: "prod",
			Status: release.DeploymentActive, DeployedAt: base}))
		d2 := must(s.CreateDeployment(ctx, &release.Deployment{ReleaseID: r2.ID, Environment: "dev",
			Status: release.DeploymentActive, DeployedAt: base.Add(time.Minute)}))
		if got := must(s.GetDeployment(ctx, d1.ID)); got.Status != release.DeploymentSuperseded {
			t.Fatalf("the first dev deployment is %s, want superseded", got.Status)
		}
		if cur := must(s.CurrentDeployment(ctx, "dev", "acme/mono", "api")); cur.ID != d2.ID {
			t.Fatalf("CurrentDeployment(dev) = %s, want %s", cur.ID, d2.ID)
		}
		if cur := must(s.CurrentDeployment(ctx, "prod", "acme/mono", "api")); cur.ID != prod.ID {
			t.Fatalf("another environment's deployment changed: %+v", cur)
		}

		d3 := must(s.CreateDeployment(ctx, &release.Deployment{ReleaseID: r1.ID, Environment: "dev", DeployedAt: base.Add(2 * time.Minute)}))
		if d3.Status != release.DeploymentPending {
			t.Fatalf("default status = %s, want pending", d3.Status)
		}
		upd := must(s.UpdateDeployment(ctx, d3.ID, func(d *release.Deployment) error {
			d.Status = release.DeploymentActive
			d.GitOpsCommitSHA = "cafe"
			return nil
		}))
		if upd.Status != release.DeploymentActive || upd.GitOpsCommitSHA != "cafe" {
			t.Fatalf("UpdateDeployment = %+v", upd)
		}
		if got := must(s.GetDeployment(ctx, d2.ID)); got.Status != release.DeploymentSuperseded {
			t.Fatalf("activating d3 left d2 %s, want superseded", got.Status)
		}
		_, err := s.UpdateDeployment(ctx, d1.ID, func(d *release.Deployment) error { d.Status = release.DeploymentActive; return nil })
		wantKind(t, "UpdateDeployment(superseded -> active)", err, fault.Conflict)

		list, total, err := s.ListDeployments(ctx, "dev", "acme/mono", "api", ports.Page{})
		if err != nil || total != 3 || list[0].ID != d3.ID || list[2].ID != d1.ID {
			t.Fatalf("ListDeployments = %+v, %d, %v; want d3, d2, d1", list, total, err)
		}
		_, err = s.CurrentDeployment(ctx, "staging", "acme/mono", "api")
		wantKind(t, "CurrentDeployment(no deployment)", err, fault.NotFound)
		_, err = s.CreateDeployment(ctx, &release.Deployment{ReleaseID: uuid.NewString(), Environment: "dev"})
		wantKind(t, "CreateDeployment(unknown release)", err, fault.NotFound)
	})
}

func TestApprovalRoundTrip(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := migrated(t, dsn)
		r := newRelease(t, s, "api", 1)
		now := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
		expires := now.Add(time.Hour)
		a1 := must(s.CreateApproval(ctx, &release.Approval{ReleaseID: r.ID, Environment: "prod", Approver: "carol",
			ApprovedAt: now, ExpiresAt: &expires, Justification: "release train"}))
		if a1.Status != release.ApprovalActive || a1.ID == "" {
			t.Fatalf("CreateApproval = %+v", a1)
		}
		if got := must(s.GetApproval(ctx, a1.ID)); !reflect.DeepEqual(got, a1) {
			t.Fatalf("GetApproval = %+v, want %+v", got, a1)
		}
		if got := must(s.ActiveApproval(ctx, r.ID, "prod", now.Add(30*time.Minute))); got.ID != a1.ID {
			t.Fatalf("ActiveApproval = %+v", got)
		}
		_, err := s.ActiveApproval(ctx, r.ID, "prod", expires)
		wantKind(t, "ActiveApproval(at expiry)", err, fault.NotFound)
		_, err = s.ActiveApproval(ctx, r.ID, "staging", now)
		wantKind(t, "ActiveApproval(other environment)", err, fault.NotFound)

		if n := must(s.ExpireApprovals(ctx, expires)); n != 1 {
			t.Fatalf("ExpireApprovals = %d, want 1", n)
		}
		if n := must(s.ExpireApprovals(ctx, expires)); n != 0 {
			t.Fatalf("second ExpireApprovals = %d, want 0", n)
		}
		if got := must(s.LatestApproval(ctx, r.ID, "prod")); got.ID != a1.ID || got.Status != release.ApprovalExpired {
			t.Fatalf("LatestApproval = %+v, want a1 expired", got)
		}
		_, err = s.UpdateApproval(ctx, a1.ID, func(a *release.Approval) error { a.Status = release.ApprovalRevoked; return nil })
		wantKind(t, "UpdateApproval(expired -> revoked)", err, fault.Conflict)

		// Same approval time: the later one is the newest.
		a2 := must(s.CreateApproval(ctx, &release.Approval{ReleaseID: r.ID, Environment: "prod", ApprovedAt: now}))
		if got := must(s.LatestApproval(ctx, r.ID, "prod")); got.ID != a2.ID {
			t.Fatalf("LatestApproval = %s, want the newer %s", got.ID, a2.ID)
		}
		rev := must(s.UpdateApproval(ctx, a2.ID, func(a *release.Approval) error { a.Status = release.ApprovalRevoked; return nil }))
		if rev.Status != release.ApprovalRevoked {
			t.Fatalf("UpdateApproval = %+v", rev)
		}
		_, err = s.ActiveApproval(ctx, r.ID, "prod", now)
		wantKind(t, "ActiveApproval(revoked)", err, fault.NotFound)
		_, err = s.LatestApproval(ctx, r.ID, "dev")
		wantKind(t, "LatestApproval(none)", err, fault.NotFound)
		_, err = s.CreateApproval(ctx, &release.Approval{ReleaseID: uuid.NewString(), Environment: "prod"})
		wantKind(t, "CreateApproval(unknown release)", err, fault.NotFound)

		d := must(s.CreateDeployment(ctx, &release.Deployment{ReleaseID: r.ID, Environment: "prod", ApprovalID: &a2.ID}))
		if d.ApprovalID == nil || *d.ApprovalID != a2.ID {
			t.Fatalf("deployment approval = %v, want %s", d.ApprovalID, a2.ID)
		}
	})
}

func TestInTx(t *testing.T) {
	dialects(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := migrated(t, dsn)
		existing, _, err := s.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: sha(1)})
		if err != nil {
			t.Fatal(err)
		}

		boom := errors.New("boom")
		err = s.InTx(ctx, func(tx ports.Tx) error {
			if _, _, err := tx.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: sha(2)}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want fn's error", err)
		}
		if _, total, _ := s.ListRuns(ctx, ports.RunFilter{CommitSHA: sha(2)}, ports.Page{}); total != 0 {
			t.Fatal("a rolled-back run was saved")
		}

		var created *pipeline.Run
		err = s.InTx(ctx, func(tx ports.Tx) error {
			// An idempotent create of an existing run, then a conflict, leave
			// the transaction usable (a savepoint on PostgreSQL).
			got, isNew, err := tx.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: sha(1)})
			if err != nil || isNew || got.ID != existing.ID {
				return fmt.Errorf("CreateRun of an existing run in a transaction = %+v, %v, %v", got, isNew, err)
			}
			if _, _, err := tx.CreateRun(ctx, &pipeline.Run{ID: existing.ID, Repository: "acme/mono", CommitSHA: sha(7)}); !fault.Is(err, fault.Conflict) {
				return fmt.Errorf("CreateRun with a taken ID = %v, want Conflict", err)
			}
			return tx.(ports.Store).InTx(ctx, func(inner ports.Tx) error {
				created, _, err = inner.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: sha(3)})
				if err != nil {
					return err
				}
				_, err = inner.AddPhases(ctx, created.ID, []pipeline.Phase{{Name: "test", GroupNumber: 1}})
				return err
			})
		})
		if err != nil {
			t.Fatalf("InTx: %v", err)
		}
		got := must(s.GetRun(ctx, created.ID))
		if len(got.Phases) != 1 {
			t.Fatalf("committed run has phases %+v", got.Phases)
		}
	})
}
