// Package envsecrets is the "env" secret provider: a reference
// {provider: "env", name: "FORGE_SECRET_NPM_TOKEN"} resolves to that
// environment variable of the worker. A build must not be able to read
// the worker's own credentials this way, so only variables named in an
// allow-list or carrying an allowed prefix are handed out, and names on a
// deny-list (the worker's token, cloud credentials) never are, whatever
// the lists say. It is in the adapters layer (adapters/onprem) and
// implements ports.SecretProvider.
package envsecrets

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// DefaultPrefix is the prefix a variable needs, when none is configured,
// to be handed to builds.
const DefaultPrefix = "FORGE_SECRET_"

// AlwaysDenied are variables that hold credentials of the platform or of
// the cloud it runs on; they are never handed to builds.
var AlwaysDenied = []string{
	"FORGE_TOKEN", "FORGE_DATABASE", "FORGE_NATS_URL",
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"VAULT_TOKEN", "GITHUB_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
}

// Options say which variables the provider may read.
type Options struct {
	// Names are variables that may be read.
	Names []string
	// Prefixes allow every variable that starts with one of them.
	Prefixes []string
	// Deny are variables never read, in addition to AlwaysDenied.
	Deny []string
	// Lookup reads a variable (os.LookupEnv when nil).
	Lookup func(name string) (string, bool)
}

// Provider is the env secret provider.
type Provider struct {
	o    Options
	deny map[string]bool
}

var _ ports.SecretProvider = (*Provider)(nil)

// New returns the provider. Empty prefixes are ignored (they would allow
// every variable).
func New(o Options) *Provider {
	p := &Provider{deny: map[string]bool{}}
	for _, n := range append(slices.Clone(AlwaysDenied), o.Deny...) {
		p.deny[n] = true
	}
	o.Prefixes = slices.DeleteFunc(slices.Clone(o.Prefixes), func(s string) bool { return s == "" })
	if o.Lookup == nil {
		o.Lookup = os.LookupEnv
	}
	p.o = o
	return p
}

// Name is "env".
func (p *Provider) Name() string { return "env" }

// Schema: one variable name.
func (p *Provider) Schema() string { return `name: =~"^[A-Za-z_][A-Za-z0-9_]*$"` }

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Resolve returns the variable's value. Errors: Validation (no valid
// name), PermissionDenied (a variable builds may not read), NotFound (not
// set), the context's error.
func (p *Provider) Resolve(ctx context.Context, cfg map[string]any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	for k := range cfg {
		if k != "name" {
			return "", fault.New(fault.Validation, "env secret: field %s is not allowed (an env secret has only name)", k)
		}
	}
	name, _ := cfg["name"].(string)
	if !validName.MatchString(name) {
		return "", fault.New(fault.Validation, "env secret: field name must be an environment variable name")
	}
	if p.deny[name] {
		return "", fault.New(fault.PermissionDenied, "env secret: %s holds the platform's own credentials and is never given to builds", name)
	}
	if !p.allowed(name) {
		return "", fault.New(fault.PermissionDenied, "env secret: %s is not allowed on this worker (allowed: %s)", name, p.describe())
	}
	v, ok := p.o.Lookup(name)
	if !ok {
		return "", fault.New(fault.NotFound, "env secret: %s is not set on this worker", name)
	}
	return v, nil
}

func (p *Provider) allowed(name string) bool {
	if slices.Contains(p.o.Names, name) {
		return true
	}
	for _, pre := range p.o.Prefixes {
		if strings.HasPrefix(name, pre) {
			return true
		}
	}
	return false
}

// describe says what is allowed, for errors (names and prefixes only).
func (p *Provider) describe() string {
	var parts []string
	for _, pre := range p.o.Prefixes {
		parts = append(parts, pre+"*")
	}
	parts = append(parts, p.o.Names...)
	if len(parts) == 0 {
		return "nothing; see --secret-env-allow and --secret-env-prefix"
	}
	return strings.Join(parts, ", ")
}
