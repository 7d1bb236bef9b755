package deploying

import (
	"time"
)

// DeploymentJob is the payload of a deployment job (job.TypeDeployment,
// on the release stream of spec 03): the pointer file a deployment
// writes to the GitOps repository, and its commit. The worker that takes
// it applies it with the GitOps port and answers a DeploymentResult.
type DeploymentJob struct {
	DeploymentID string    `json:"deployment_id"`
	Path         string    `json:"path"`
	Content      []byte    `json:"content"`
	Message      string    `json:"message"`
	Author       string    `json:"author"`
	When         time.Time `json:"when"`
}

// DeploymentResult is what the worker answers: the commit that holds the
// pointer, and whether this job made it (false: the pointer was there).
type DeploymentResult struct {
	Commit  string `json:"commit"`
	Changed bool   `json:"changed"`
}
