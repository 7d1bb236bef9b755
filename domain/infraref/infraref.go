// Package infraref is spec 08's reference model: the paths a deployment
// resource uses to read another XR's outputs, connection details, secrets
// and configs (outputs/<xr>/<key>, connections/<xr>/<key>,
// secrets/<xr>/<secret>[/<key>], configs/<xr>/<config>[/<key>]), the
// cross-namespace forms allowed for outputs only
// (<repository>-<project>::outputs/... and platform::outputs/...), the
// namespace of a project, and the precedence of configuration values. It
// is in the domain layer.
package infraref

import (
	"fmt"
	"regexp"
	"strings"
)

// Kind is a reference's first path segment: what it resolves to.
type Kind string

// The kinds of reference.
const (
	Outputs     Kind = "outputs"     // a literal value from status.outputs
	Connections Kind = "connections" // a secretKeyRef into the connection-details Secret
	Secrets     Kind = "secrets"     // a secretKeyRef into a Secrets XR's Secret
	Configs     Kind = "configs"     // a configMapKeyRef into a ConfigMaps XR's ConfigMap
)

// Platform is the namespace qualifier of platform resources.
const Platform = "platform"

// Ref is a parsed reference.
type Ref struct {
	// Namespace is "" for the project's own namespace, Platform, or a
	// <repository>-<project> namespace.
	Namespace string
	Kind      Kind
	// XR names the composite resource the reference reads.
	XR string
	// Item is the secret or config inside a Secrets or ConfigMaps XR
	// (three-part paths only).
	Item string
	// Key is the key read; for secrets and configs it may be empty (the
	// whole item, as a mount).
	Key string
}

// Inlined reports whether the reference's value is copied into the
// consuming resource (outputs) rather than referenced.
func (r Ref) Inlined() bool { return r.Kind == Outputs }

// String writes the reference back.
func (r Ref) String() string {
	parts := []string{string(r.Kind), r.XR}
	if r.Item != "" {
		parts = append(parts, r.Item)
	}
	if r.Key != "" {
		parts = append(parts, r.Key)
	}
	s := strings.Join(parts, "/")
	if r.Namespace != "" {
		s = r.Namespace + "::" + s
	}
	return s
}

// name is a Kubernetes object name (DNS-1123 subdomain, as XR names are).
var name = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// key is a Secret or ConfigMap data key, or an output field.
var key = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// label is a DNS-1123 label: what a namespace must be.
var label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Parse reads a reference, refusing with a message that says what is
// wrong and what is allowed.
func Parse(s string) (Ref, error) {
	var r Ref
	rest := s
	if ns, after, ok := strings.Cut(s, "::"); ok {
		if ns == "" || (ns != Platform && !label.MatchString(ns)) {
			return r, fmt.Errorf("%q: the namespace before :: must be platform or <repository>-<project>, got %q", s, ns)
		}
		r.Namespace, rest = ns, after
	}
	parts := strings.Split(rest, "/")
	r.Kind = Kind(parts[0])
	switch r.Kind {
	case Outputs, Connections:
		if len(parts) != 3 {
			return r, fmt.Errorf("%q: %s references are %s/<xr>/<key>", s, r.Kind, r.Kind)
		}
		r.XR, r.Key = parts[1], parts[2]
	case Secrets, Configs:
		if len(parts) != 3 && len(parts) != 4 {
			return r, fmt.Errorf("%q: %s references are %s/<xr>/<item>[/<key>]", s, r.Kind, r.Kind)
		}
		r.XR, r.Item = parts[1], parts[2]
		if len(parts) == 4 {
			r.Key = parts[3]
		}
	default:
		return r, fmt.Errorf("%q: a reference starts with outputs/, connections/, secrets/ or configs/", s)
	}
	if r.Namespace != "" && r.Kind != Outputs {
		return r, fmt.Errorf("%q: only outputs/ may be read across namespaces (%s:: %s/ is not allowed: secrets, configs and connections stay in their namespace)", s, r.Namespace, r.Kind)
	}
	if !name.MatchString(r.XR) {
		return r, fmt.Errorf("%q: %q is not an XR name (lower-case letters, digits, '-' and '.')", s, r.XR)
	}
	if r.Item != "" && !name.MatchString(r.Item) {
		return r, fmt.Errorf("%q: %q is not a secret or config name", s, r.Item)
	}
	if (r.Kind == Outputs || r.Kind == Connections || r.Key != "") && !key.MatchString(r.Key) {
		return r, fmt.Errorf("%q: %q is not a key (letters, digits, '-', '_' and '.')", s, r.Key)
	}
	return r, nil
}

// Namespace is the Kubernetes namespace of a project: <repository>-<project>,
// with the repository's name (the part after owner/), lower case. Errors:
// a namespace that is not a DNS label of at most 63 characters.
func Namespace(repository, project string) (string, error) {
	if i := strings.LastIndex(repository, "/"); i >= 0 {
		repository = repository[i+1:]
	}
	ns := strings.ToLower(repository + "-" + project)
	if len(ns) > 63 || !label.MatchString(ns) {
		return "", fmt.Errorf("the namespace of %s/%s would be %q, which is not a DNS label of at most 63 characters", repository, project, ns)
	}
	return ns, nil
}

// Value is one source of a configuration value: set or not.
type Value[T any] struct {
	V   T
	Set bool
}

// Of returns a set value.
func Of[T any](v T) Value[T] { return Value[T]{V: v, Set: true} }

// Resolve returns the value of spec 08's precedence: the per-project
// override, else the XR's spec, else the cluster-wide default, else the
// composition's default; and which of them gave it.
func Resolve[T any](override, spec, cluster, composition Value[T]) (T, string) {
	for _, c := range []struct {
		v    Value[T]
		from string
	}{{override, "per-project override"}, {spec, "XR spec"}, {cluster, "cluster default"}, {composition, "composition default"}} {
		if c.v.Set {
			return c.v.V, c.from
		}
	}
	var zero T
	return zero, ""
}
