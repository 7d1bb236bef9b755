package endpoints

// The requests of the endpoints that take more than a body: what HTTP
// reads from the path and the query, and NATS from the message, as one
// JSON object (subjects carry no parameters). The bodies of spec 06
// (CreateRunRequest, DeployRequest, ...) are the requests of the endpoints
// that take a body alone.

// IDRequest names one entity by its ID: a run, or an approval to revoke.
type IDRequest struct {
	ID string `json:"id"`
}

// ListRunsRequest filters and pages the list of runs; empty filters match
// everything.
type ListRunsRequest struct {
	Repository string `json:"repository,omitempty"`
	Branch     string `json:"branch,omitempty"`
	CommitSHA  string `json:"commit_sha,omitempty"`
	Status     string `json:"status,omitempty"`
	Limit      int    `json:"limit,omitempty"`
	Offset     int    `json:"offset,omitempty"`
}

// UpdateTaskRequest is a task's status report (TaskStatusRequest) with
// the task's ID.
type UpdateTaskRequest struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// UpdateStepRequest is a step's status report (StepStatusRequest) with
// the step's ID.
type UpdateStepRequest struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	ExitCode  *int   `json:"exit_code,omitempty"`
	LogsS3Key string `json:"logs_s3_key,omitempty"`
}

// SetImageRequest is SetReleaseImageRequest with the release's ID.
type SetImageRequest struct {
	ID        string `json:"id"`
	OCIDigest string `json:"oci_digest"`
}

// ReleaseRequest names a release of a project: ID is an alias, a number
// or a commit prefix.
type ReleaseRequest struct {
	Repository string `json:"repository"`
	Project    string `json:"project"`
	ID         string `json:"id"`
}

// ListReleasesRequest pages a project's releases.
type ListReleasesRequest struct {
	Repository string `json:"repository"`
	Project    string `json:"project"`
	Limit      int    `json:"limit,omitempty"`
	Offset     int    `json:"offset,omitempty"`
}

// CurrentDeploymentRequest asks what a project runs in an environment.
type CurrentDeploymentRequest struct {
	Environment string `json:"environment"`
	Repository  string `json:"repository"`
	Project     string `json:"project"`
}

// ApprovalRequest asks for the newest approval of a release for an
// environment.
type ApprovalRequest struct {
	ReleaseID   string `json:"release_id"`
	Environment string `json:"environment"`
}

// PageRequest pages a list that takes no filter.
type PageRequest struct {
	Limit  int `json:"limit,omitempty"`
	Offset int `json:"offset,omitempty"`
}

// EmptyRequest is the request of an endpoint that takes nothing.
type EmptyRequest struct{}
