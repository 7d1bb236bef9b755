package cueconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"cuelang.org/go/cue"

	"github.com/catalyst-forge/forge/domain/config"
)

// decoder turns a validated CUE value into domain types, keeping the
// positions that later checks report errors at.
type decoder struct {
	srcs     []source
	problems config.Problems
}

func (d *decoder) pos(v cue.Value) config.Position {
	p := v.Pos()
	for _, s := range d.srcs {
		if s.name == p.Filename() {
			return mapPos(p, s.name, s.shifts)
		}
	}
	if len(d.srcs) > 0 {
		return config.Position{File: d.srcs[0].name}
	}
	return config.Position{}
}

// decode fills into from v through JSON, which is cheaper than reflecting
// over CUE values one by one and gives the same result for validated,
// concrete configuration.
func (d *decoder) decode(v cue.Value, into any) bool {
	b, err := exportJSON(v)
	if err == errTooLarge {
		d.problems = append(d.problems, config.Errorf(d.pos(v), "%v", err))
		return false
	}
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber() // keep integers exact in free-form values
		err = dec.Decode(into)
	}
	if err != nil {
		d.problems = append(d.problems, config.Errorf(d.pos(v), "cannot read the configuration: %v", err))
		return false
	}
	return true
}

func at(v cue.Value, sels ...cue.Selector) cue.Value { return v.LookupPath(cue.MakePath(sels...)) }

func (d *decoder) repo(v cue.Value) *config.Repo {
	var raw struct {
		ForgeVersion string                    `json:"forgeVersion"`
		Tagging      config.Tagging            `json:"tagging"`
		Phases       map[string]config.Phase   `json:"phases"`
		Publishers   map[string]map[string]any `json:"publishers"`
	}
	r := &config.Repo{Phases: map[string]config.Phase{}, Publishers: map[string]config.Publisher{}}
	if !d.decode(v, &raw) {
		return r
	}
	r.ForgeVersion, r.Tagging = raw.ForgeVersion, raw.Tagging
	for name, ph := range raw.Phases {
		ph.Pos = d.pos(at(v, cue.Str("phases"), cue.Str(name)))
		r.Phases[name] = ph
	}
	for name, fields := range raw.Publishers {
		pv := at(v, cue.Str("publishers"), cue.Str(name))
		pub := config.Publisher{Settings: map[string]any{}, Pos: d.pos(pv)}
		for k, val := range fields {
			switch k {
			case "type":
				pub.Type = fmt.Sprint(val)
			case "credentials":
				ref := secretRef(val)
				ref.Pos = d.pos(at(pv, cue.Str("credentials")))
				pub.Credentials = &ref
			default:
				pub.Settings[k] = val
			}
		}
		r.Publishers[name] = pub
	}
	return r
}

func secretRef(val any) config.SecretRef {
	m, _ := val.(map[string]any)
	ref := config.SecretRef{Config: map[string]any{}}
	for k, x := range m {
		switch k {
		case "provider":
			ref.Provider = fmt.Sprint(x)
		case "env":
			ref.Env = fmt.Sprint(x)
		default:
			ref.Config[k] = x
		}
	}
	return ref
}

type rawStep struct {
	Action   config.Action    `json:"action"`
	Target   string           `json:"target"`
	Args     []string         `json:"args"`
	Run      string           `json:"run"`
	Shell    string           `json:"shell"`
	Priority int              `json:"priority"`
	Timeout  string           `json:"timeout"`
	Secrets  []map[string]any `json:"secrets"`
}

func (d *decoder) project(v cue.Value) *config.Project {
	var raw struct {
		Name string `json:"name"`
		CI   struct {
			Phases map[string]map[string]rawStep `json:"phases"`
		} `json:"ci"`
		Deployment struct {
			Resources []any `json:"resources"`
		} `json:"deployment"`
		Release struct {
			On      []config.Trigger `json:"on"`
			Enabled *bool            `json:"enabled"`
		} `json:"release"`
		Artifacts map[string]config.Artifact `json:"artifacts"`
	}
	p := &config.Project{
		Phases:    map[string][]config.Step{},
		PhasePos:  map[string]config.Position{},
		Artifacts: map[string]config.Artifact{},
		Release:   config.Release{Enabled: true},
	}
	if !d.decode(v, &raw) {
		return p
	}
	p.Name = raw.Name
	p.NamePos = d.pos(at(v, cue.Str("name")))
	for phase, steps := range raw.CI.Phases {
		pv := at(v, cue.Str("ci"), cue.Str("phases"), cue.Str(phase))
		p.PhasePos[phase] = d.pos(pv)
		list := make([]config.Step, 0, len(steps))
		for name, rs := range steps {
			sv := at(pv, cue.Str(name))
			st := config.Step{
				Name: name, Action: rs.Action, Target: rs.Target, Run: rs.Run, Shell: rs.Shell,
				Priority: rs.Priority, Timeout: rs.Timeout, Args: rs.Args, Secrets: []config.SecretRef{},
				Pos: d.pos(sv),
			}
			if st.Args == nil {
				st.Args = []string{}
			}
			for i, s := range rs.Secrets {
				ref := secretRef(s)
				ref.Pos = d.pos(at(sv, cue.Str("secrets"), cue.Index(i)))
				st.Secrets = append(st.Secrets, ref)
			}
			list = append(list, st)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
		p.Phases[phase] = list
	}
	p.Deployment.Resources = raw.Deployment.Resources
	for i, t := range raw.Release.On {
		t.Pos = d.pos(at(v, cue.Str("release"), cue.Str("on"), cue.Index(i)))
		p.Release.On = append(p.Release.On, t)
	}
	if raw.Release.Enabled != nil {
		p.Release.Enabled = *raw.Release.Enabled
		p.Release.EnabledPos = d.pos(at(v, cue.Str("release"), cue.Str("enabled")))
	}
	for name, a := range raw.Artifacts {
		av := at(v, cue.Str("artifacts"), cue.Str(name))
		a.Pos = d.pos(av)
		a.Producer.Pos = d.pos(at(av, cue.Str("producer")))
		a.PublisherPos = map[string]config.Position{}
		if a.Publishers == nil {
			a.Publishers = map[string]map[string]any{}
		}
		for pub := range a.Publishers {
			a.PublisherPos[pub] = d.pos(at(av, cue.Str("publishers"), cue.Str(pub)))
		}
		p.Artifacts[name] = a
	}
	return p
}

// deploymentShape checks what the schema says of deployment, which its
// check leaves out (see without): a struct holding only resources, a
// list.
func (d *decoder) deploymentShape(raw cue.Value) config.Problems {
	dep := at(raw, cue.Str("deployment"))
	if !dep.Exists() {
		return nil
	}
	if dep.IncompleteKind() != cue.StructKind {
		return config.Problems{config.Errorf(d.pos(dep), "deployment: must be a struct holding resources, got %v", dep.IncompleteKind())}
	}
	var ps config.Problems
	it, _ := dep.Fields(cue.Optional(true))
	for it.Next() {
		if it.Selector().Unquoted() != "resources" {
			ps = append(ps, config.Errorf(d.pos(it.Value()), "deployment.%s: field not allowed", it.Selector()))
		}
	}
	if res := at(dep, cue.Str("resources")); res.Exists() && res.IncompleteKind() != cue.ListKind {
		ps = append(ps, config.Errorf(d.pos(res), "deployment.resources: must be a list of resources, got %v", res.IncompleteKind()))
	}
	return ps
}

// checkResources checks each decoded resource as the schema's #Resource
// would: a struct with apiVersion, kind and metadata.name, strings.
// Positions are looked up only for a resource that fails.
func (d *decoder) checkResources(raw cue.Value, resources []any) {
	for i, r := range resources {
		where := func(sels ...cue.Selector) cue.Value {
			return at(raw, append([]cue.Selector{cue.Str("deployment"), cue.Str("resources"), cue.Index(i)}, sels...)...)
		}
		m, ok := r.(map[string]any)
		if !ok {
			d.problems = append(d.problems, config.Errorf(d.pos(where()), "deployment.resources[%d]: a resource must be a struct", i))
			continue
		}
		for _, f := range []string{"apiVersion", "kind", "metadata"} {
			v, ok := m[f]
			switch _, isMap := v.(map[string]any); {
			case !ok:
				d.problems = append(d.problems, config.Errorf(d.pos(where()), "deployment.resources[%d].%s: field is required but not present", i, f))
			case f == "metadata" && !isMap:
				d.problems = append(d.problems, config.Errorf(d.pos(where(cue.Str(f))), "deployment.resources[%d].metadata: must be a struct", i))
			case f == "metadata":
				meta := v.(map[string]any)
				if name, ok := meta["name"]; !ok {
					d.problems = append(d.problems, config.Errorf(d.pos(where(cue.Str(f))), "deployment.resources[%d].metadata.name: field is required but not present", i))
				} else if _, ok := name.(string); !ok {
					d.problems = append(d.problems, config.Errorf(d.pos(where(cue.Str(f), cue.Str("name"))), "deployment.resources[%d].metadata.name: must be a string", i))
				}
			default:
				if _, ok := v.(string); !ok {
					d.problems = append(d.problems, config.Errorf(d.pos(where(cue.Str(f))), "deployment.resources[%d].%s: must be a string", i, f))
				}
			}
		}
	}
}
