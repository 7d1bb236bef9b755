package stepexec

import (
	"os"
	"strings"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// validate checks what Execute needs before it starts anything. Messages
// name the field of ports.StepRequest that is wrong and never include a
// secret value.
func validate(req ports.StepRequest) error {
	switch config.Action(req.Action) {
	case config.ActionScript:
		if strings.TrimSpace(req.Run) == "" {
			return invalid("Run", "a script step needs Run")
		}
	case config.ActionEarthly:
		if req.Target == "" {
			return invalid("Target", "an earthly step needs Target")
		}
		if strings.HasPrefix(req.Target, "-") {
			return invalid("Target", "Target %q starts with '-' and would be read as an earthly option", req.Target)
		}
	default:
		return invalid("Action", "unknown Action %q (want %q or %q)", req.Action, config.ActionEarthly, config.ActionScript)
	}
	if req.Output == nil {
		return invalid("Output", "Output is required")
	}
	if req.Dir == "" {
		return invalid("Dir", "Dir is required")
	}
	if fi, err := os.Stat(req.Dir); err != nil || !fi.IsDir() {
		return invalid("Dir", "Dir %q is not a directory", req.Dir)
	}
	if req.Timeout < 0 {
		return invalid("Timeout", "Timeout %s is negative", req.Timeout)
	}
	for name, value := range req.Env {
		if !validName(name) {
			return invalid("Env", "Env name %q is not a valid environment variable name", name)
		}
		if strings.ContainsRune(value, 0) {
			return invalid("Env", "Env %s holds a NUL byte", name)
		}
		if _, ok := req.Secrets[name]; ok {
			return invalid("Env", "%s is in both Env and Secrets", name)
		}
	}
	for name, value := range req.Secrets {
		if !validName(name) {
			return invalid("Secrets", "secret name %q is not a valid environment variable name", name)
		}
		if strings.ContainsRune(value, 0) {
			return invalid("Secrets", "secret %s holds a NUL byte", name)
		}
	}
	return nil
}

// invalid returns a Validation error about field.
func invalid(field, format string, args ...any) *fault.Error {
	err := fault.New(fault.Validation, "step request: "+format, args...)
	err.Details = map[string]any{"field": field}
	return err
}

// validName reports whether name is a portable environment variable name
// ([A-Za-z_][A-Za-z0-9_]*), which also makes "--secret NAME" well formed.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case i > 0 && '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return true
}
