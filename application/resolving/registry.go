package resolving

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Registry resolves secret references through the provider each names.
// Safe for concurrent use.
type Registry struct {
	providers map[string]ports.SecretProvider
	// mu guards ctx and schemas: a CUE context is not safe for concurrent
	// use.
	mu      sync.Mutex
	ctx     *cue.Context
	schemas map[string]cue.Value
}

// NewRegistry returns a registry of the providers. Errors: Validation (two
// providers with one name, a provider without a name, or a schema that is
// not valid CUE).
func NewRegistry(providers ...ports.SecretProvider) (*Registry, error) {
	r := &Registry{providers: map[string]ports.SecretProvider{}, ctx: cuecontext.New(), schemas: map[string]cue.Value{}}
	for _, p := range providers {
		name := p.Name()
		if name == "" {
			return nil, fault.New(fault.Validation, "a secret provider has no name")
		}
		if _, dup := r.providers[name]; dup {
			return nil, fault.New(fault.Validation, "two secret providers are named %q", name)
		}
		v := r.ctx.CompileString("#Ref: {\n"+p.Schema()+"\n}", cue.Filename(name+" provider schema")).LookupPath(cue.ParsePath("#Ref"))
		if err := v.Err(); err != nil {
			return nil, fault.Wrap(fault.Validation, err, "the schema of secret provider %q", name)
		}
		r.providers[name], r.schemas[name] = p, v
	}
	return r, nil
}

// Names lists the providers, sorted.
func (r *Registry) Names() []string { return slices.Sorted(maps.Keys(r.providers)) }

// Check validates ref against its provider's schema without resolving it.
// Errors: Validation, naming the provider and the field.
func (r *Registry) Check(ref config.SecretRef) error {
	if _, ok := r.providers[ref.Provider]; !ok {
		if ref.Provider == "" {
			return fault.New(fault.Validation, "a secret reference needs a provider (%s)", strings.Join(r.Names(), ", "))
		}
		return fault.New(fault.Validation, "secret provider %q is not available here (available: %s)", ref.Provider, strings.Join(r.Names(), ", "))
	}
	doc, err := json.Marshal(orEmpty(ref.Config))
	if err != nil {
		return fault.Wrap(fault.Validation, err, "secret provider %q: the reference's fields", ref.Provider)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.ctx.CompileBytes(doc).Unify(r.schemas[ref.Provider])
	if err := v.Validate(cue.Concrete(true)); err != nil {
		return fault.New(fault.Validation, "secret provider %q: %s", ref.Provider, describe(err))
	}
	return nil
}

// Resolve checks ref and returns the value its provider holds for it.
// Errors: those of Check, then the provider's (see ports.SecretProvider).
// No error holds the value.
func (r *Registry) Resolve(ctx context.Context, ref config.SecretRef) (string, error) {
	if err := r.Check(ref); err != nil {
		return "", err
	}
	return r.providers[ref.Provider].Resolve(ctx, orEmpty(ref.Config))
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// describe turns CUE's errors into "field path: problem" phrases.
func describe(err error) string {
	var parts []string
	for _, e := range cueerrors.Errors(err) {
		path := strings.Join(e.Path(), ".")
		path = strings.TrimPrefix(strings.TrimPrefix(path, "#Ref"), ".")
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		switch {
		case path == "":
			parts = append(parts, msg)
		case strings.HasPrefix(msg, "incomplete value "):
			parts = append(parts, fmt.Sprintf("field %s is required (%s)", path, strings.TrimPrefix(msg, "incomplete value ")))
		default:
			parts = append(parts, fmt.Sprintf("field %s: %s", path, msg))
		}
	}
	slices.Sort(parts)
	return strings.Join(slices.Compact(parts), "; ")
}
