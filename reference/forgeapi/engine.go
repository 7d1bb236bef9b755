package forgeapi

import (
	"os"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/catalyst-forge/forge/adapters/onprem/argoengine"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// The workflow engines forge-api can start runs with (--engine).
const (
	EngineNone = "none" // runs stay pending for an external orchestrator
	EngineArgo = "argo" // each run becomes an Argo Workflow of forge-dispatcher steps
)

// ArgoOptions configure the Argo Workflows engine (--engine argo).
type ArgoOptions struct {
	Server          string // the Argo Server's URL (required)
	Namespace       string // where workflows are created (required)
	TokenFile       string // bearer token for the Argo Server; empty sends none
	DispatcherImage string // image of the forge-dispatcher steps (required)
	ServiceAccount  string // service account of the workflow's pods
	// DispatcherSecret names the Kubernetes Secret whose keys become the
	// dispatcher's environment (FORGE_DATABASE, FORGE_NATS_URL). Required
	// unless WorkflowTemplate is set.
	DispatcherSecret string
	// WorkflowTemplate names the WorkflowTemplate each run's workflow
	// references (forge-api workflow-template prints it); the dispatcher's
	// image, Secret and service account are then the template's.
	WorkflowTemplate string
}

// NewEngine returns the workflow engine named kind for Options.Engine:
// nil for "none" (or ""), an Argo engine for "argo". Errors: Validation,
// naming the missing or wrong flag.
func NewEngine(kind string, a ArgoOptions) (ports.WorkflowEngine, error) {
	switch kind {
	case "", EngineNone:
		return nil, nil
	case EngineArgo:
	default:
		return nil, fault.New(fault.Validation, "--engine must be none or argo, got %q", kind)
	}
	required := []struct{ flag, value string }{{"--argo-server", a.Server}, {"--argo-namespace", a.Namespace}}
	dispatcher := []struct{ flag, value string }{
		{"--dispatcher-image", a.DispatcherImage}, {"--dispatcher-secret", a.DispatcherSecret}, {"--argo-service-account", a.ServiceAccount},
	}
	if a.WorkflowTemplate == "" {
		required = append(required, dispatcher[:2]...)
	} else {
		var extra []string
		for _, f := range dispatcher {
			if f.value != "" {
				extra = append(extra, f.flag)
			}
		}
		if len(extra) > 0 {
			return nil, fault.New(fault.Validation, "--argo-workflow-template %s: the dispatcher's image, Secret and service account are the template's; drop %s",
				a.WorkflowTemplate, strings.Join(extra, ", "))
		}
	}
	var missing []string
	for _, f := range required {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 {
		return nil, fault.New(fault.Validation, "--engine argo needs %s", strings.Join(missing, ", "))
	}
	token := ""
	if a.TokenFile != "" {
		b, err := os.ReadFile(a.TokenFile)
		if err != nil {
			return nil, fault.Wrap(fault.Validation, err, "--argo-token-file: reading %s", a.TokenFile)
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return nil, fault.New(fault.Validation, "--argo-token-file: %s is empty", a.TokenFile)
		}
	}
	e, err := argoengine.New(argoengine.Config{
		ServerURL:        a.Server,
		Namespace:        a.Namespace,
		Token:            token,
		DispatcherImage:  a.DispatcherImage,
		ServiceAccount:   a.ServiceAccount,
		EnvFromSecret:    a.DispatcherSecret,
		WorkflowTemplate: a.WorkflowTemplate,
	})
	if err != nil {
		return nil, err // not a nil *Engine inside the interface
	}
	return e, nil
}

// WorkflowTemplate returns the Argo WorkflowTemplate named name, as YAML,
// for --argo-workflow-template: the workflow of every run, with the
// dispatcher's image, Secret and service account of a (Server and
// TokenFile are not used). Errors: Validation, naming the flag.
func WorkflowTemplate(name string, a ArgoOptions) ([]byte, error) {
	for _, f := range []struct{ flag, value string }{
		{"--argo-namespace", a.Namespace}, {"--dispatcher-image", a.DispatcherImage}, {"--dispatcher-secret", a.DispatcherSecret},
	} {
		if strings.TrimSpace(f.value) == "" {
			return nil, fault.New(fault.Validation, "workflow-template needs %s", f.flag)
		}
	}
	b, err := argoengine.WorkflowTemplate(name, argoengine.Config{
		Namespace:       a.Namespace,
		DispatcherImage: a.DispatcherImage,
		ServiceAccount:  a.ServiceAccount,
		EnvFromSecret:   a.DispatcherSecret,
	})
	if err != nil {
		return nil, err
	}
	out, err := yaml.JSONToYAML(b)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "workflow-template: encode")
	}
	return out, nil
}
