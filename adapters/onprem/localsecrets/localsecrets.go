// Package localsecrets resolves the secret references of steps from the
// worker's own machine: the env provider reads an environment variable
// ({provider: "env", name: "TOKEN"}) and the file provider a file's
// content without its final newline ({provider: "file", path: "/run/x"}),
// such as a mounted Kubernetes Secret. It is in the adapters layer
// (adapters/onprem); secret managers (Vault, AWS Secrets Manager) are
// separate adapters with the same signature.
package localsecrets

import (
	"context"
	"os"
	"strings"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
)

// Resolve returns the value of ref. Errors: Validation (a provider other
// than env or file, or a reference without its name or path), NotFound
// (the variable is not set, the file does not exist). No error holds the
// value.
func Resolve(_ context.Context, ref config.SecretRef) (string, error) {
	switch ref.Provider {
	case "env":
		name, _ := ref.Config["name"].(string)
		if name == "" {
			return "", fault.New(fault.Validation, "an env secret needs a name")
		}
		v, ok := os.LookupEnv(name)
		if !ok {
			return "", fault.New(fault.NotFound, "environment variable %s is not set on this worker", name)
		}
		return v, nil
	case "file":
		path, _ := ref.Config["path"].(string)
		if path == "" {
			return "", fault.New(fault.Validation, "a file secret needs a path")
		}
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return "", fault.New(fault.NotFound, "secret file %s does not exist on this worker", path)
		}
		if err != nil {
			return "", fault.Wrap(fault.Unavailable, err, "reading secret file %s", path)
		}
		return strings.TrimRight(string(b), "\n"), nil
	}
	return "", fault.New(fault.Validation, "secret provider %q is not available on this worker (use env or file)", ref.Provider)
}
