// Package secretflags declares the flags that say which secrets a
// worker's builds may read, and builds the secret provider registry from
// them, so that forge-worker and the forge dev commands configure step
// secrets the same way. What is never readable (the worker's token, its
// data and cache directories, signing keys) is passed by the command.
package secretflags

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/catalyst-forge/forge/adapters/aws/smsecrets"
	"github.com/catalyst-forge/forge/adapters/onprem/envsecrets"
	"github.com/catalyst-forge/forge/adapters/onprem/filesecrets"
	"github.com/catalyst-forge/forge/adapters/onprem/k8ssecrets"
	"github.com/catalyst-forge/forge/adapters/onprem/vaultsecrets"
	"github.com/catalyst-forge/forge/application/resolving"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/reference/envdefault"
)

// Options say what the env and file providers may read.
type Options struct {
	// EnvNames and EnvPrefixes allow environment variables by name and by
	// prefix (default envsecrets.DefaultPrefix).
	EnvNames, EnvPrefixes []string
	// FileRoots are the directories secret files may be read under
	// (default none: file secrets are refused).
	FileRoots []string
	// AWS configures the aws provider (AWS Secrets Manager, credentials
	// from the default chain): its default region and endpoint.
	AWS smsecrets.Config
	// Vault configures the vault provider (KV v2): its address, and the
	// Kubernetes auth role to log in with (else VAULT_TOKEN).
	Vault vaultsecrets.Config
	// Kubernetes configures the kubernetes provider: the namespaces whose
	// Secrets builds may read (none by default) and a kubeconfig (default:
	// the pod's service account).
	Kubernetes k8ssecrets.Config
	// DenyEnv are variables never read as env secrets (the worker's own,
	// such as a signing key given in its environment).
	DenyEnv []string
}

// Defaults are the options when no flag is given.
func Defaults() Options { return Options{EnvPrefixes: []string{envsecrets.DefaultPrefix}} }

// Flags declares --secret-env-allow, --secret-env-prefix and
// --secret-file-root into o, with FORGE_SECRETS_* environment variables
// (comma-separated lists).
func Flags(f *pflag.FlagSet, o *Options) {
	f.StringSliceVar(&o.EnvNames, "secret-env-allow", list("FORGE_SECRETS_ENV_ALLOW", nil),
		"environment variables steps may read as env secrets (env FORGE_SECRETS_ENV_ALLOW)")
	f.StringSliceVar(&o.EnvPrefixes, "secret-env-prefix", list("FORGE_SECRETS_ENV_PREFIX", []string{envsecrets.DefaultPrefix}),
		`prefixes of environment variables steps may read as env secrets; "" allows none (env FORGE_SECRETS_ENV_PREFIX)`)
	f.StringSliceVar(&o.FileRoots, "secret-file-root", list("FORGE_SECRETS_FILE_ROOTS", nil),
		"directories under which steps may read file secrets; none by default (env FORGE_SECRETS_FILE_ROOTS)")
	f.StringVar(&o.AWS.Region, "secret-aws-region", envdefault.String("FORGE_SECRETS_AWS_REGION", ""),
		"region of aws secrets that name none (default: the AWS configuration's, AWS_REGION)")
	f.StringVar(&o.AWS.Endpoint, "secret-aws-endpoint", envdefault.String("FORGE_SECRETS_AWS_ENDPOINT", ""),
		"Secrets Manager endpoint URL (a VPC endpoint); empty: AWS's")
	f.StringVar(&o.Vault.Address, "secret-vault-addr", envdefault.String("FORGE_SECRETS_VAULT_ADDR", ""),
		"Vault URL for vault secrets (default: VAULT_ADDR); the token is VAULT_TOKEN unless --secret-vault-role is set")
	f.StringVar(&o.Vault.Role, "secret-vault-role", envdefault.String("FORGE_SECRETS_VAULT_ROLE", ""),
		"log in to Vault with its Kubernetes auth method as this role, with the pod's service account token")
	f.StringSliceVar(&o.Kubernetes.Namespaces, "secret-k8s-namespace", list("FORGE_SECRETS_K8S_NAMESPACES", nil),
		"namespaces whose Secrets steps and publishers may read as kubernetes secrets; none by default (env FORGE_SECRETS_K8S_NAMESPACES)")
	f.StringVar(&o.Kubernetes.Kubeconfig, "secret-k8s-kubeconfig", envdefault.String("FORGE_SECRETS_K8S_KUBECONFIG", ""),
		"kubeconfig for kubernetes secrets (default: the pod's service account)")
	f.StringVar(&o.Vault.Mount, "secret-vault-mount", envdefault.String("FORGE_SECRETS_VAULT_MOUNT", "secret"),
		"the KV v2 engine's mount for vault secrets that name none")
}

func list(env string, def []string) []string {
	v := envdefault.String(env, "")
	if v == "" {
		return def
	}
	return strings.Split(v, ",")
}

// Registry returns the providers: env, file and kubernetes as the options
// allow, aws and vault. Paths under deny are never read as file secrets.
func Registry(ctx context.Context, o Options, deny ...string) (*resolving.Registry, error) {
	aws, err := smsecrets.New(ctx, o.AWS)
	if err != nil {
		return nil, err
	}
	vault, err := vaultsecrets.New(o.Vault)
	if err != nil {
		return nil, err
	}
	kube, err := k8ssecrets.New(o.Kubernetes)
	if err != nil {
		return nil, err
	}
	return resolving.NewRegistry(
		envsecrets.New(envsecrets.Options{Names: o.EnvNames, Prefixes: o.EnvPrefixes, Deny: o.DenyEnv}),
		filesecrets.New(filesecrets.Options{Roots: o.FileRoots, Deny: deny}),
		aws, vault, kube,
	)
}

// Own prepares the reading of one secret of the worker's own, such as
// its signing key, named by ref: it returns a registry that reads exactly
// that secret (the env variable, the file, the Secret's namespace; aws
// and vault as configured), and the options and denied paths builds get
// instead of o and deny, from which that secret is out of reach. A
// kubernetes secret in a namespace builds may read is refused: builds
// could read it too. For aws and vault no such line can be drawn, since
// builds and the worker ask with one identity; the docs say so.
func Own(ctx context.Context, o Options, ref config.SecretRef, deny []string) (own *resolving.Registry, builds Options, buildDeny []string, err error) {
	mine := Options{AWS: o.AWS, Vault: o.Vault, Kubernetes: k8ssecrets.Config{Kubeconfig: o.Kubernetes.Kubeconfig}}
	builds, buildDeny = o, slices.Clone(deny)
	switch ref.Provider {
	case "env":
		name, _ := ref.Config["name"].(string)
		mine.EnvNames = []string{name}
		builds.DenyEnv = append(slices.Clone(o.DenyEnv), name)
	case "file":
		path, _ := ref.Config["path"].(string)
		mine.FileRoots = []string{path}
		buildDeny = append(buildDeny, path)
	case "kubernetes":
		ns, _ := ref.Config["namespace"].(string)
		if slices.Contains(o.Kubernetes.Namespaces, ns) {
			return nil, Options{}, nil, fault.New(fault.Validation, "the worker's own secret is in namespace %s, whose Secrets builds may read (--secret-k8s-namespace): keep it elsewhere", ns)
		}
		mine.Kubernetes.Namespaces = []string{ns}
	}
	own, err = Registry(ctx, mine)
	if err != nil {
		return nil, Options{}, nil, err
	}
	if err := own.Check(ref); err != nil {
		return nil, Options{}, nil, err
	}
	return own, builds, buildDeny, nil
}

// ReadOwn reads one secret of the process's own that the flag named
// flag gives as a secret reference in JSON (refJSON), through Own: it
// returns the value, and the options and denied paths builds get instead
// of o and deny. Errors name the flag: Validation (not a reference in
// JSON), and Own's and the provider's.
func ReadOwn(ctx context.Context, o Options, flag, refJSON string, deny []string) (value string, builds Options, buildDeny []string, err error) {
	var ref config.SecretRef
	if err := json.Unmarshal([]byte(refJSON), &ref); err != nil || ref.Provider == "" {
		return "", Options{}, nil, fault.New(fault.Validation, `%s is not a secret reference in JSON ({"provider": ..., ...})`, flag)
	}
	own, builds, buildDeny, err := Own(ctx, o, ref, deny)
	if err != nil {
		return "", Options{}, nil, fmt.Errorf("%s: %w", flag, err)
	}
	if value, err = own.Resolve(ctx, ref); err != nil {
		return "", Options{}, nil, fmt.Errorf("%s: %w", flag, err)
	}
	return value, builds, buildDeny, nil
}

// ReportSecret reads the platform's report secret (pipeline.ReportKey):
// the content of file, or else the FORGE_REPORT_SECRET variable; nil
// when neither is given. forge-api and forge-dispatcher must share it.
// Errors: Validation (a file that cannot be read, or a secret shorter
// than 16 bytes).
func ReportSecret(file string) ([]byte, error) {
	var secret []byte
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fault.New(fault.Validation, "--report-secret-file %s cannot be read", file)
		}
		secret = []byte(strings.TrimSpace(string(b)))
	case os.Getenv("FORGE_REPORT_SECRET") != "":
		secret = []byte(os.Getenv("FORGE_REPORT_SECRET"))
	default:
		return nil, nil
	}
	if len(secret) < 16 {
		return nil, fault.New(fault.Validation, "the report secret must be at least 16 bytes")
	}
	return secret, nil
}
