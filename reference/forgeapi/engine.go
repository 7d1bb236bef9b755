package forgeapi

import (
	"os"
	"strings"

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
	// dispatcher's environment (FORGE_DATABASE, FORGE_NATS_URL). Required.
	DispatcherSecret string
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
	var missing []string
	for _, f := range []struct{ flag, value string }{
		{"--argo-server", a.Server}, {"--argo-namespace", a.Namespace},
		{"--dispatcher-image", a.DispatcherImage}, {"--dispatcher-secret", a.DispatcherSecret},
	} {
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
		ServerURL:       a.Server,
		Namespace:       a.Namespace,
		Token:           token,
		DispatcherImage: a.DispatcherImage,
		ServiceAccount:  a.ServiceAccount,
		EnvFromSecret:   a.DispatcherSecret,
	})
	if err != nil {
		return nil, err // not a nil *Engine inside the interface
	}
	return e, nil
}
