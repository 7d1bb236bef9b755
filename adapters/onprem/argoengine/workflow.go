package argoengine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
)

// Limits and files of the workflow, from spec 03 ("Argo Workflows
// Configuration") and the contract with the dispatcher.
const (
	namePrefix            = "forge-run-"
	maxNameLen            = 63
	maxLabelLen           = 63
	parallelism           = 100
	activeDeadlineSeconds = 86400
	dispatcherCommand     = "forge-dispatcher"
	phaseGroupsFile       = "/tmp/forge/phase-groups.json"
	releaseEnabledFile    = "/tmp/forge/release-enabled"
	runIDEnv              = "FORGE_RUN_ID"
	// runIDParameter is the WorkflowTemplate's parameter that carries the
	// run's ID, and runIDExpression how the template reads it.
	runIDParameter  = "run-id"
	runIDExpression = "{{workflow.parameters.run-id}}"
)

// WorkflowName returns the name of a run's workflow: forge-run-<run id>,
// lower-cased and DNS-safe, at most 63 characters. A run ID that has to be
// changed for that (other than by lower-casing) or cut short gets a short
// hash of the original ID at the end, so two runs do not share a name.
// The name is what makes Start idempotent.
func WorkflowName(runID string) string {
	lower := strings.ToLower(runID)
	var b strings.Builder
	for _, r := range lower {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	safe := strings.Trim(b.String(), "-")
	name := namePrefix + safe
	if safe == lower && len(name) <= maxNameLen {
		return name
	}
	sum := sha256.Sum256([]byte(runID))
	suffix := hex.EncodeToString(sum[:4])
	if limit := maxNameLen - len(suffix) - 1; len(name) > limit {
		name = name[:limit]
	}
	return strings.TrimRight(name, "-") + "-" + suffix
}

// RetryWorkflowName returns the name of the workflow of a run reopened
// for a retry: its WorkflowName (cut short when needed) and a short hash
// of the run's ID and new start time, so each reopening of the run has a
// workflow of its own and retrying one reopening twice names the same.
func RetryWorkflowName(run *pipeline.Run) string {
	sum := sha256.Sum256([]byte(run.ID + "\x00" + strconv.FormatInt(run.StartedAt.UnixMicro(), 10)))
	suffix := "-retry-" + hex.EncodeToString(sum[:4])
	name := WorkflowName(run.ID)
	if limit := maxNameLen - len(suffix); len(name) > limit {
		name = strings.TrimRight(name[:limit], "-")
	}
	return name + suffix
}

// labelValue makes s a valid Kubernetes label value: at most 63
// characters from [A-Za-z0-9-_.], starting and ending with a letter or
// digit. Other characters (the slashes of a repository) become '_'.
func labelValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_' || c == '.'
		if !ok {
			b[i] = '_'
		}
	}
	v := string(b)
	if len(v) > maxLabelLen {
		v = v[:maxLabelLen]
	}
	return strings.TrimFunc(v, func(r rune) bool {
		return !((r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	})
}

// The manifest types below hold the part of Argo's Workflow schema that
// the rendered workflow uses. Structs, not maps, so the JSON has a fixed
// key order and a golden file can pin it.

type workflow struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   metadata     `json:"metadata"`
	Spec       workflowSpec `json:"spec"`
}

type metadata struct {
	Name      string  `json:"name"`
	Namespace string  `json:"namespace,omitempty"`
	Labels    *labels `json:"labels,omitempty"`
}

type labels struct {
	RunID      string `json:"forge.io/run-id"`
	Repository string `json:"forge.io/repository,omitempty"`
	Commit     string `json:"forge.io/commit,omitempty"`
}

// workflowSpec is either the whole pipeline (a WorkflowTemplate's, or an
// inline workflow's) or a reference to a WorkflowTemplate with the run's
// arguments.
type workflowSpec struct {
	Entrypoint            string       `json:"entrypoint,omitempty"`
	Parallelism           int          `json:"parallelism,omitempty"`
	ActiveDeadlineSeconds int          `json:"activeDeadlineSeconds,omitempty"`
	PodGC                 *podGC       `json:"podGC,omitempty"`
	ServiceAccountName    string       `json:"serviceAccountName,omitempty"`
	Templates             []template   `json:"templates,omitempty"`
	Arguments             *arguments   `json:"arguments,omitempty"`
	WorkflowTemplateRef   *templateRef `json:"workflowTemplateRef,omitempty"`
}

type templateRef struct {
	Name string `json:"name"`
}

type podGC struct {
	Strategy string `json:"strategy"`
}

type template struct {
	Name        string           `json:"name"`
	Inputs      *inputs          `json:"inputs,omitempty"`
	Outputs     *outputs         `json:"outputs,omitempty"`
	Parallelism *int             `json:"parallelism,omitempty"`
	Steps       [][]workflowStep `json:"steps,omitempty"`
	Container   *container       `json:"container,omitempty"`
	// RetryStrategy retries a step Argo itself failed (its pod evicted
	// or deleted), never one whose dispatcher exited non-zero: the
	// stages are safe to run again, and an exit code is a decision.
	RetryStrategy *retryStrategy `json:"retryStrategy,omitempty"`
}

type retryStrategy struct {
	Limit       string `json:"limit"`
	RetryPolicy string `json:"retryPolicy"`
}

type inputs struct {
	Parameters []parameter `json:"parameters"`
}

type outputs struct {
	Parameters []parameter `json:"parameters"`
}

type parameter struct {
	Name      string     `json:"name"`
	Value     *string    `json:"value,omitempty"`
	Default   *string    `json:"default,omitempty"`
	ValueFrom *valueFrom `json:"valueFrom,omitempty"`
}

type valueFrom struct {
	Path    string `json:"path"`
	Default string `json:"default"`
}

type workflowStep struct {
	Name      string     `json:"name"`
	Template  string     `json:"template"`
	Arguments *arguments `json:"arguments,omitempty"`
	WithParam string     `json:"withParam,omitempty"`
	When      string     `json:"when,omitempty"`
}

type arguments struct {
	Parameters []parameter `json:"parameters"`
}

type container struct {
	Image     string          `json:"image"`
	Command   []string        `json:"command"`
	Args      []string        `json:"args"`
	Env       []envVar        `json:"env"`
	EnvFrom   []envFromSource `json:"envFrom,omitempty"`
	Resources resources       `json:"resources"`
}

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type envFromSource struct {
	SecretRef secretRef `json:"secretRef"`
}

type secretRef struct {
	Name string `json:"name"`
}

type resources struct {
	Requests quantities `json:"requests"`
	Limits   quantities `json:"limits"`
}

type quantities struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

func str(s string) *string { return &s }

func param(name, value string) parameter { return parameter{Name: name, Value: str(value)} }

// Render returns the Argo Workflow of a run as indented JSON. The same run
// and configuration always give the same bytes. Errors: Validation (no
// run, no run ID, or a run ID that Argo would read as a template
// expression).
func (e *Engine) Render(run *pipeline.Run) ([]byte, error) {
	if run == nil {
		return nil, fault.New(fault.Validation, "argoengine: no run to render")
	}
	return e.render(run, WorkflowName(run.ID))
}

// render returns the run's workflow under name, as Render does.
func (e *Engine) render(run *pipeline.Run, name string) ([]byte, error) {
	wf, err := e.workflow(run, name)
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(wf, "", "  ")
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "argoengine: encode workflow")
	}
	return append(out, '\n'), nil
}

func (e *Engine) workflow(run *pipeline.Run, name string) (*workflow, error) {
	if run.ID == "" {
		return nil, fault.New(fault.Validation, "argoengine: the run has no ID")
	}
	if strings.Contains(run.ID, "{{") {
		return nil, fault.New(fault.Validation, "argoengine: run ID %q contains an Argo template expression", run.ID)
	}
	wf := &workflow{
		APIVersion: "argoproj.io/v1alpha1",
		Kind:       "Workflow",
		Metadata: metadata{
			Name:      name,
			Namespace: e.cfg.Namespace,
			Labels: &labels{
				RunID:      labelValue(run.ID),
				Repository: labelValue(run.Repository),
				Commit:     labelValue(run.CommitSHA),
			},
		},
	}
	if e.cfg.WorkflowTemplate != "" {
		wf.Spec = workflowSpec{
			WorkflowTemplateRef: &templateRef{Name: e.cfg.WorkflowTemplate},
			Arguments:           &arguments{Parameters: []parameter{param(runIDParameter, run.ID)}},
		}
		return wf, nil
	}
	wf.Spec = pipelineSpec(e.cfg, run.ID)
	return wf, nil
}

// WorkflowTemplate returns, as indented JSON, the Argo WorkflowTemplate
// named name that an Engine whose Config.WorkflowTemplate names it
// creates workflows from: the steps of an inline workflow, with the run's
// ID read from the workflow's run-id parameter. It takes Namespace,
// DispatcherImage (required), ServiceAccount, Env and EnvFromSecret from
// cfg. Errors: Validation (a name or Secret that Kubernetes would refuse,
// no DispatcherImage).
func WorkflowTemplate(name string, cfg Config) ([]byte, error) {
	if len(name) > 253 || !secretName.MatchString(name) {
		return nil, fault.New(fault.Validation, "argoengine: WorkflowTemplate name %q is not a Kubernetes name (lower-case letters, digits, '-' and '.', at most 253)", name)
	}
	if cfg.DispatcherImage == "" {
		return nil, fault.New(fault.Validation, "argoengine: DispatcherImage is required")
	}
	if err := checkSecret(cfg.EnvFromSecret); err != nil {
		return nil, err
	}
	spec := pipelineSpec(cfg, runIDExpression)
	spec.Arguments = &arguments{Parameters: []parameter{{Name: runIDParameter}}}
	out, err := json.MarshalIndent(workflow{
		APIVersion: "argoproj.io/v1alpha1",
		Kind:       "WorkflowTemplate",
		Metadata:   metadata{Name: name, Namespace: cfg.Namespace},
		Spec:       spec,
	}, "", "  ")
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "argoengine: encode workflow template")
	}
	return append(out, '\n'), nil
}

// pipelineSpec is the pipeline of a run whose ID is runID: a literal ID
// in an inline workflow, the run-id parameter's expression in a template.
func pipelineSpec(cfg Config, runID string) workflowSpec {
	env := make([]envVar, 0, len(cfg.Env)+1)
	for name, value := range cfg.Env {
		if name != runIDEnv {
			env = append(env, envVar{Name: name, Value: value})
		}
	}
	env = append(env, envVar{Name: runIDEnv, Value: runID})
	sort.Slice(env, func(i, j int) bool { return env[i].Name < env[j].Name })

	var envFrom []envFromSource
	if cfg.EnvFromSecret != "" {
		envFrom = []envFromSource{{SecretRef: secretRef{Name: cfg.EnvFromSecret}}}
	}

	discovery := "{{steps.discovery.outputs.parameters."
	one := 1
	return workflowSpec{
		Entrypoint:            "pipeline",
		Parallelism:           parallelism,
		ActiveDeadlineSeconds: activeDeadlineSeconds,
		PodGC:                 &podGC{Strategy: "OnPodCompletion"},
		ServiceAccountName:    cfg.ServiceAccount,
		Templates: []template{
			{
				Name: "pipeline",
				Steps: [][]workflowStep{
					{{
						Name:      "discovery",
						Template:  "dispatch",
						Arguments: &arguments{Parameters: []parameter{param("stage", "discovery")}},
					}},
					{{
						Name:     "phase-groups",
						Template: "phase-groups",
						Arguments: &arguments{Parameters: []parameter{
							param("phase-groups", discovery+"phase-groups}}"),
						}},
					}},
					{{
						Name:      "release",
						Template:  "dispatch",
						Arguments: &arguments{Parameters: []parameter{param("stage", "release")}},
						When:      discovery + "release-enabled}} == true",
					}},
				},
			},
			{
				// Parallelism 1: the groups of the list run one after
				// another, in the order discovery gave them.
				Name:        "phase-groups",
				Inputs:      &inputs{Parameters: []parameter{{Name: "phase-groups"}}},
				Parallelism: &one,
				Steps: [][]workflowStep{{{
					Name:     "group",
					Template: "dispatch",
					Arguments: &arguments{Parameters: []parameter{
						param("stage", "phase-group"),
						param("group", "{{item}}"),
					}},
					WithParam: "{{inputs.parameters.phase-groups}}",
				}}},
			},
			{
				Name: "dispatch",
				Inputs: &inputs{Parameters: []parameter{
					{Name: "stage"},
					{Name: "group", Default: str("")},
				}},
				// Only discovery writes these files; the defaults keep
				// the other stages from failing for want of them.
				Outputs: &outputs{Parameters: []parameter{
					{Name: "phase-groups", ValueFrom: &valueFrom{Path: phaseGroupsFile, Default: "[]"}},
					{Name: "release-enabled", ValueFrom: &valueFrom{Path: releaseEnabledFile, Default: "false"}},
				}},
				RetryStrategy: &retryStrategy{Limit: "2", RetryPolicy: "OnError"},
				Container: &container{
					Image:   cfg.DispatcherImage,
					Command: []string{dispatcherCommand},
					Args: []string{
						"{{inputs.parameters.stage}}",
						"--run", runID,
						"--group", "{{inputs.parameters.group}}",
					},
					Env:     env,
					EnvFrom: envFrom,
					Resources: resources{
						Requests: quantities{CPU: "50m", Memory: "128Mi"},
						Limits:   quantities{CPU: "200m", Memory: "256Mi"},
					},
				},
			},
		},
	}
}
