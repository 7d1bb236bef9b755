package rendering

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"cuelang.org/go/cue"
	"go.yaml.in/yaml/v3"

	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/infraref"
)

// Outputs maps an artifact's name to the document its references read
// (artifact.Output.View).
type Outputs map[string]map[string]any

// Options say how references without an output are treated.
type Options struct {
	// Placeholders fills a reference that has no output with a visible
	// placeholder ("<@artifact web.uri>") instead of failing; Unresolved
	// lists them. For previews only: a release never has placeholders.
	Placeholders bool
}

// Result is the rendered resources.
type Result struct {
	// Resources are the project's deployment resources, references filled.
	Resources []map[string]any
	// Unresolved are the references that got placeholders.
	Unresolved []config.ArtifactRef
}

// Placeholder is what an unresolved reference renders as with
// Options.Placeholders.
func Placeholder(ref string) string { return "<@artifact " + ref + ">" }

// Render fills the project's artifact references from outputs. Errors:
// Validation, one per problem, each naming the reference or resource and
// its position in the project's configuration.
func Render(p *config.Project, outputs Outputs, o Options) (*Result, error) {
	// The decoded resources are shared with the project: fill a copy.
	resources, _ := normalize(p.Deployment.Resources).([]any)
	root := map[string]any{"deployment": map[string]any{"resources": resources}}
	res := &Result{}
	var problems []string
	for _, ref := range p.ArtifactRefs {
		v, err := lookup(outputs, ref)
		if err != nil {
			if !o.Placeholders {
				problems = append(problems, fmt.Sprintf("%s: @artifact(%q): %v", ref.Pos, ref.Ref, err))
				continue
			}
			v = Placeholder(ref.Ref)
			res.Unresolved = append(res.Unresolved, ref)
		}
		if err := set(root, ref.Path, normalize(v)); err != nil {
			problems = append(problems, fmt.Sprintf("%s: @artifact(%q) at %s: %v", ref.Pos, ref.Ref, ref.Path, err))
		}
	}
	for i, r := range resources {
		m, ok := r.(map[string]any)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: deployment.resources[%d] is not a struct", p.File, i))
			continue
		}
		meta, _ := m["metadata"].(map[string]any)
		for field, v := range map[string]any{"apiVersion": m["apiVersion"], "kind": m["kind"], "metadata.name": meta["name"]} {
			if s, ok := v.(string); !ok || s == "" {
				problems = append(problems, fmt.Sprintf("%s: deployment.resources[%d] has no %s", p.File, i, field))
			}
		}
		res.Resources = append(res.Resources, m)
	}
	problems = append(problems, checkSources(p, resources)...)
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, fault.New(fault.Validation, "rendering %s:\n  %s", p.Name, strings.Join(problems, "\n  "))
	}
	return res, nil
}

// checkSources refuses the infrastructure references (spec 08) a release
// could not resolve: a malformed one, a cross-namespace form other than
// outputs/, and one that reads an XR of the project's own namespace that
// the release does not declare. Each problem names the reference, the
// resource and where it is written.
func checkSources(p *config.Project, resources []any) []string {
	declared := map[string]bool{}
	var names []string
	for _, r := range resources {
		if n := resourceName(r); n != "" {
			declared[n] = true
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var problems []string
	for _, sr := range p.SourceRefs {
		where := sr.Path
		if r := resourceAt(resources, sr.Path); r != nil {
			where += " (" + describe(r) + ")"
		}
		ref, err := infraref.Parse(sr.Value)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %s: %v", sr.Pos, where, err))
			continue
		}
		if ref.Namespace == "" && !declared[ref.XR] {
			problems = append(problems, fmt.Sprintf("%s: %s: %q reads XR %q, which this release does not declare (its resources: %s)",
				sr.Pos, where, sr.Value, ref.XR, strings.Join(names, ", ")))
		}
	}
	return problems
}

// resourceName is a resource's metadata.name, "" when it has none.
func resourceName(r any) string {
	m, _ := r.(map[string]any)
	meta, _ := m["metadata"].(map[string]any)
	n, _ := meta["name"].(string)
	return n
}

// resourceAt returns the resource a deployment path lies in.
func resourceAt(resources []any, path string) any {
	sels := cue.ParsePath(path).Selectors()
	if len(sels) < 3 || sels[1].String() != "resources" || sels[2].Type() != cue.IndexLabel || sels[2].Index() >= len(resources) {
		return nil
	}
	return resources[sels[2].Index()]
}

// describe names a resource as kind/name.
func describe(r any) string {
	m, _ := r.(map[string]any)
	kind, _ := m["kind"].(string)
	return kind + " " + resourceName(r)
}

// lookup reads ref's field from its artifact's output.
func lookup(outputs Outputs, ref config.ArtifactRef) (any, error) {
	doc, ok := outputs[ref.Artifact]
	if !ok {
		if len(outputs) == 0 {
			return nil, fmt.Errorf("no artifact outputs were given")
		}
		return nil, fmt.Errorf("there is no output of artifact %s (outputs of %s)", ref.Artifact, strings.Join(slices.Sorted(maps.Keys(outputs)), ", "))
	}
	var cur any = doc
	var walked []string
	for _, part := range strings.Split(ref.Field, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s.%s is not a struct", ref.Artifact, strings.Join(walked, "."))
		}
		next, ok := m[part]
		if !ok {
			have := strings.Join(slices.Sorted(maps.Keys(m)), ", ")
			if have == "" {
				have = "nothing there"
			}
			return nil, fmt.Errorf("artifact %s has no output %s (it has %s)", ref.Artifact, strings.Join(append(walked, part), "."), have)
		}
		cur, walked = next, append(walked, part)
	}
	return cur, nil
}

// set puts v at the CUE path in root.
func set(root map[string]any, path string, v any) error {
	sels := cue.ParsePath(path).Selectors()
	if len(sels) == 0 {
		return fmt.Errorf("the path %q is not a CUE path", path)
	}
	var cur any = root
	for i, sel := range sels {
		last := i == len(sels)-1
		switch sel.Type() {
		case cue.IndexLabel:
			list, ok := cur.([]any)
			if !ok || sel.Index() >= len(list) {
				return fmt.Errorf("no element %d there", sel.Index())
			}
			if last {
				list[sel.Index()] = v
				return nil
			}
			cur = list[sel.Index()]
		case cue.StringLabel:
			m, ok := cur.(map[string]any)
			if !ok {
				return fmt.Errorf("no field %s there", sel.Unquoted())
			}
			if last {
				m[sel.Unquoted()] = v
				return nil
			}
			cur = m[sel.Unquoted()]
		default:
			return fmt.Errorf("the path %q has a selector %s that is not a field or an index", path, sel)
		}
	}
	return nil
}

// YAML writes resources as a YAML stream, one document each, in their
// order, with the keys of each mapping sorted: the same resources always
// give the same bytes. Documents are encoded on every core at once (a
// release of hundreds of resources spends most of its rendering here)
// and joined in order.
func YAML(resources []map[string]any) ([]byte, error) {
	docs := make([][]byte, len(resources))
	errs := make([]error, len(resources))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(resources)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(resources); i = int(next.Add(1) - 1) {
				docs[i], errs[i] = yamlDoc(resources[i])
			}
		})
	}
	wg.Wait()
	var buf bytes.Buffer
	for i, d := range docs {
		if errs[i] != nil {
			return nil, fault.Wrap(fault.Internal, errs[i], "writing resource %d as YAML", i)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(d)
	}
	return buf.Bytes(), nil
}

// yamlDoc encodes one resource as a YAML document, indented by two.
func yamlDoc(r map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ParseYAML reads a YAML stream of resources, such as YAML writes, back
// into one mapping per document (empty documents are skipped). Errors:
// Validation, naming the document that is not a mapping.
func ParseYAML(b []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []map[string]any
	for i := 1; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fault.Wrap(fault.Validation, err, "document %d of the resources is not a YAML mapping", i)
		}
		if doc != nil {
			out = append(out, doc)
		}
	}
}

// normalize deep-copies a decoded JSON or CUE value, turning numbers
// (json.Number, or float64 from a JSON document) into int64 when they are
// whole, so that "replicas: 2" and "size: 1048576" stay integers in YAML.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = normalize(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = normalize(e)
		}
		return l
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	case int:
		return int64(x)
	}
	return v
}
