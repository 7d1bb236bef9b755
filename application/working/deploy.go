package working

import (
	"context"
	"encoding/json"

	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// deploy writes a deployment's pointer to the GitOps repository: one
// commit, or none when the pointer is there already (a job delivered
// again). What the repository refuses for good (a bad path, refused
// credentials) is the job's error text; a remote that cannot be reached
// fails the attempt, to be delivered again.
func (w *Worker) deploy(ctx context.Context, d *ports.Delivery) ([]byte, error) {
	if w.GitOps == nil {
		return nil, fault.New(fault.Validation, "this worker has no GitOps repository: it does not take deployment jobs")
	}
	var dj deploying.DeploymentJob
	if err := json.Unmarshal(d.Job.Payload, &dj); err != nil {
		return nil, fault.Wrap(fault.Validation, err, "reading deployment job %s", d.Job.ID)
	}
	commit, changed, err := w.GitOps.Apply(ctx, ports.GitOpsChange{Path: dj.Path, Content: dj.Content, Message: dj.Message, Author: dj.Author, When: dj.When})
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, w.userError(d.Job.ID, err, "deployment %s: writing %s to the GitOps repository failed: %v", dj.DeploymentID, dj.Path, err)
	}
	return json.Marshal(deploying.DeploymentResult{Commit: commit, Changed: changed})
}
