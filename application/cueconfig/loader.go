package cueconfig

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/catalyst-forge/forge/domain/config"
)

//go:embed schema.cue
var schemaSource string

// Package names the configuration files must declare.
const (
	PackageRepo    = "repo"
	PackageProject = "project"
)

// Names of the configuration directory and files.
const (
	ForgeDir    = ".forge"
	RepoFile    = "repo.cue"
	ProjectFile = "project.cue"
	ModuleFile  = "cue.mod/module.cue"
)

// MaxFileBytes bounds one configuration file; a larger one is refused
// before it is parsed.
const MaxFileBytes = 1 << 20

// Loader evaluates configuration against the embedded schema. A Loader is
// not safe for concurrent use: give each goroutine its own.
type Loader struct {
	ctx     *cue.Context
	repo    cue.Value
	project cue.Value
}

// NewLoader compiles the embedded schema.
func NewLoader() *Loader {
	ctx := cuecontext.New()
	s := ctx.CompileString(schemaSource, cue.Filename("forge-schema.cue"))
	if s.Err() != nil {
		// The schema is part of the binary and covered by tests.
		panic(fmt.Sprintf("cueconfig: embedded schema does not compile: %v", s.Err()))
	}
	return &Loader{
		ctx:     ctx,
		repo:    s.LookupPath(cue.ParsePath("#Repo")),
		project: s.LookupPath(cue.ParsePath("#Project")),
	}
}

// Schema returns the CUE source of the embedded schema.
func Schema() string { return schemaSource }

// RepoConfig is a loaded repository configuration: the domain value and the
// same configuration as plain data, for @repo() lookups.
type RepoConfig struct {
	Repo *config.Repo
	data any
}

// source is one parsed configuration file.
type source struct {
	name   string // repository-relative, slash-separated
	file   *ast.File
	shifts shifts
}

// LoadRepo loads the repository configuration from the `.forge` directory
// at the root of fsys. The problems include warnings; the result is nil
// when there is an error among them.
func (l *Loader) LoadRepo(fsys fs.FS) (*RepoConfig, config.Problems) {
	srcs, ps := l.readDir(fsys, ".", PackageRepo)
	if ps.HasErrors() {
		return nil, ps
	}
	if len(srcs) == 0 {
		return nil, append(ps, config.Errorf(config.Position{File: path.Join(ForgeDir, RepoFile)}, "no file of package repo in %s", ForgeDir))
	}
	res := &attrResolver{}
	v, raw, more := l.evaluate(srcs, res, l.repo)
	ps = append(ps, more...)
	if ps.HasErrors() {
		return nil, ps
	}
	d := decoder{srcs: srcs}
	repo := d.repo(raw)
	repo.File = srcs[0].name
	ps = append(ps, d.problems...)
	if ps.HasErrors() {
		return nil, ps
	}
	ps = append(ps, config.CheckVersion(repo.ForgeVersion, config.SchemaVersion, d.pos(raw.LookupPath(cue.ParsePath("forgeVersion"))))...)
	ps = append(ps, config.CheckRepo(repo)...)
	if ps.HasErrors() {
		return nil, ps
	}
	var data any
	b, err := exportJSON(v)
	if err == nil {
		err = json.Unmarshal(b, &data)
	}
	if err != nil {
		return nil, append(ps, config.Errorf(config.Position{File: repo.File}, "cannot export the repository configuration: %v", err))
	}
	return &RepoConfig{Repo: repo, data: data}, ps
}

// LoadProject loads the project whose `.forge` directory is in dir (a
// slash-separated path relative to the root of fsys, "." for the root) and
// checks it against the repository configuration.
func (l *Loader) LoadProject(fsys fs.FS, dir string, rc *RepoConfig) (*config.Project, config.Problems) {
	srcs, ps := l.readDir(fsys, dir, PackageProject)
	if ps.HasErrors() {
		return nil, ps
	}
	if len(srcs) == 0 {
		return nil, append(ps, config.Errorf(config.Position{File: path.Join(dir, ForgeDir, ProjectFile)}, "no file of package project in %s", path.Join(dir, ForgeDir)))
	}
	res := &attrResolver{repo: rc.data}
	if res.repo == nil {
		res.repo = map[string]any{}
	}
	_, raw, more := l.evaluate(srcs, res, l.project, "deployment")
	ps = append(ps, more...)
	if ps.HasErrors() {
		return nil, ps
	}
	d := decoder{srcs: srcs}
	if more := d.deploymentShape(raw); len(more) > 0 {
		return nil, append(ps, more...)
	}
	p := d.project(raw)
	if d.problems.HasErrors() {
		// A value left incomplete among the resources (which the schema
		// check left out) is said where it is.
		if err := raw.LookupPath(cue.ParsePath("deployment")).Validate(cue.Concrete(true)); err != nil {
			return nil, append(ps, cueProblems(err, srcs, &raw)...)
		}
	} else {
		d.checkResources(raw, p.Deployment.Resources)
	}
	p.Path = dir
	p.File = srcs[0].name
	p.ArtifactRefs = res.refs
	p.SourceRefs = res.sources
	ps = append(ps, d.problems...)
	if ps.HasErrors() {
		return nil, ps // the project could not be read: nothing to check
	}
	ps = append(ps, config.CheckProject(rc.Repo, p)...)
	if ps.HasErrors() {
		return nil, ps
	}
	return p, ps
}

// readDir reads and parses the CUE files of package pkg in dir/.forge.
// Files of the other forge package are skipped; repo.cue and project.cue
// must declare the package their name says.
func (l *Loader) readDir(fsys fs.FS, dir, pkg string) ([]source, config.Problems) {
	forge := path.Join(dir, ForgeDir)
	if ps := noLinks(fsys, forge); ps != nil {
		return nil, ps
	}
	entries, err := fs.ReadDir(fsys, forge)
	if err != nil {
		return nil, config.Problems{config.Errorf(config.Position{File: forge}, "cannot read %s: %v", forge, err)}
	}
	var ps config.Problems
	var srcs []source
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".cue") {
			continue
		}
		name := path.Join(forge, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			ps = append(ps, linkProblem(name))
			continue
		}
		if !e.Type().IsRegular() {
			continue // subdirectories are reserved
		}
		src, err := readFile(fsys, name)
		if err != nil {
			ps = append(ps, config.Errorf(config.Position{File: name}, "%v", err))
			continue
		}
		s, more := parse(name, src)
		ps = append(ps, more...)
		if s == nil {
			continue
		}
		got := s.file.PackageName()
		if msg := packageRule(e.Name(), got, dir == "."); msg != "" {
			ps = append(ps, config.Errorf(packagePos(s), "%s", msg))
			continue
		}
		if got == pkg {
			srcs = append(srcs, *s)
		}
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].name < srcs[j].name })
	// Put the file named for the package first: it names the configuration.
	for i, s := range srcs {
		if path.Base(s.name) == pkg+".cue" && i > 0 {
			srcs[0], srcs[i] = srcs[i], srcs[0]
		}
	}
	ps = append(ps, checkModule(fsys, forge)...)
	return srcs, ps
}

func readFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %v", err)
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("file is over %d bytes, the limit for a configuration file", MaxFileBytes)
	}
	return b, nil
}

// packageRule returns why a file's package clause is wrong, or "".
func packageRule(base, pkg string, root bool) string {
	switch {
	case pkg == "":
		return "missing package clause: forge configuration files declare `package repo` or `package project`"
	case base == RepoFile && pkg != PackageRepo:
		return fmt.Sprintf("repo.cue must declare `package repo`, not `package %s`", pkg)
	case base == ProjectFile && pkg != PackageProject:
		return fmt.Sprintf("project.cue must declare `package project`, not `package %s`", pkg)
	case pkg != PackageRepo && pkg != PackageProject:
		return fmt.Sprintf("unknown package %q: forge configuration files declare `package repo` or `package project`", pkg)
	case pkg == PackageRepo && !root:
		return "`package repo` belongs only in the .forge directory at the repository root"
	}
	return ""
}

func packagePos(s *source) config.Position {
	for _, d := range s.file.Decls {
		if p, ok := d.(*ast.Package); ok {
			return mapPos(p.Name.Pos(), s.name, s.shifts)
		}
	}
	return config.Position{File: s.name, Line: 1, Column: 1}
}

// checkModule parses cue.mod/module.cue when there is one: a `.forge`
// directory may be a CUE module, and a broken module file is reported.
func checkModule(fsys fs.FS, forge string) config.Problems {
	name := path.Join(forge, ModuleFile)
	if ps := noLinks(fsys, name); ps != nil {
		return ps
	}
	st, err := fs.Stat(fsys, name)
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	src, err := readFile(fsys, name)
	if err != nil {
		return config.Problems{config.Errorf(config.Position{File: name}, "%v", err)}
	}
	if _, err := parser.ParseFile(name, src); err != nil {
		return cueProblems(err, []source{{name: name}}, nil)
	}
	return nil
}

// parse rewrites value-position attributes and parses one file.
func parse(name string, src []byte) (*source, config.Problems) {
	rewritten, sh := valueAttributes(name, src)
	f, err := parser.ParseFile(name, rewritten, parser.ParseComments)
	if err != nil {
		return nil, cueProblems(err, []source{{name: name, shifts: sh}}, nil)
	}
	for imp := range f.ImportSpecs() {
		p, _ := strings.CutPrefix(imp.Path.Value, `"`)
		if strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
			return nil, config.Problems{config.Errorf(mapPos(imp.Pos(), name, sh),
				"import %s: forge configuration can import only CUE's standard library", imp.Path.Value)}
		}
	}
	s := &source{name: name, file: f, shifts: sh}
	if ps := checkComprehensions(s); ps != nil {
		return nil, ps
	}
	return s, nil
}

// evaluate resolves attributes, builds and unifies the files, and checks
// the result against schema, except the top-level fields named in own,
// which the caller checks. It returns the unified value and the user's
// own value (whose positions are all in the user's files).
func (l *Loader) evaluate(srcs []source, res *attrResolver, schema cue.Value, own ...string) (cue.Value, cue.Value, config.Problems) {
	var ps config.Problems
	var raw cue.Value
	for i, s := range srcs {
		res.file, res.shifts = s.name, s.shifts
		res.resolve(s.file)
		v := l.ctx.BuildFile(s.file)
		if i == 0 {
			raw = v
		} else {
			raw = raw.Unify(v)
		}
	}
	ps = append(ps, res.problems...)
	if ps.HasErrors() {
		return cue.Value{}, cue.Value{}, ps
	}
	if err := raw.Err(); err != nil {
		return cue.Value{}, cue.Value{}, append(ps, cueProblems(err, srcs, &raw)...)
	}
	v := schema.Unify(without(l.ctx, raw, own))
	if err := v.Validate(cue.Concrete(true)); err != nil {
		return cue.Value{}, cue.Value{}, append(ps, cueProblems(err, srcs, &raw)...)
	}
	return v, raw, ps
}

// without is v without its top-level fields named in own (optional ones
// included), or v itself when own is empty. Unifying the schema with v
// evaluates v again in full; leaving out what is checked otherwise (a
// project's deployment resources, hundreds of them in a large release)
// saves that second evaluation.
func without(ctx *cue.Context, v cue.Value, own []string) cue.Value {
	if len(own) == 0 {
		return v
	}
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return v // not a struct: the schema says so
	}
	out := ctx.CompileString("{}")
	for it.Next() {
		if !slices.Contains(own, it.Selector().Unquoted()) {
			out = out.FillPath(cue.MakePath(it.Selector()), it.Value())
		}
	}
	return out
}

// mapPos converts a position in rewritten source to the user's position.
func mapPos(p token.Pos, file string, sh shifts) config.Position {
	if !p.IsValid() {
		return config.Position{File: file}
	}
	pp := p.Position()
	return config.Position{File: file, Line: pp.Line, Column: sh.column(pp.Line, pp.Column)}
}

// cueProblems turns CUE errors into problems positioned in the user's
// files. When an error has no position in them (a required field that is
// missing, say), the nearest enclosing value the user wrote gives one.
func cueProblems(err error, srcs []source, raw *cue.Value) config.Problems {
	byName := make(map[string]shifts, len(srcs))
	for _, s := range srcs {
		byName[s.name] = s.shifts
	}
	var ps config.Problems
	seen := map[string]bool{}
	add := func(pos config.Position, where, msg string) {
		if where != "" {
			msg = where + ": " + msg
		}
		p := config.Errorf(pos, "%s", msg)
		if key := p.Error(); !seen[key] {
			seen[key] = true
			ps = append(ps, p)
		}
	}
	errs := cueerrors.Errors(err)
	for i := 0; i < len(errs); i++ {
		e := errs[i]
		pos, ok := userPos(e, byName)
		if !ok && raw != nil {
			pos, ok = nearestPos(*raw, e.Path(), byName)
		}
		if !ok && len(srcs) > 0 {
			pos = config.Position{File: srcs[0].name}
		}
		where := formatPath(e.Path())
		format, args := e.Msg()
		if strings.Contains(format, "empty disjunction") {
			// CUE follows this header with one error per alternative.
			var alts []cueerrors.Error
			for i+1 < len(errs) && formatPath(errs[i+1].Path()) == where {
				i++
				alts = append(alts, errs[i])
			}
			if msg, ok := oneOf(alts); ok {
				if apos, ok := userPos(alts[0], byName); ok {
					pos = apos // the value, rather than the field
				}
				add(pos, where, msg)
				continue
			}
			for _, a := range alts {
				apos, ok := userPos(a, byName)
				if !ok {
					apos = pos
				}
				f, args := a.Msg()
				add(apos, where, fmt.Sprintf(f, args...))
			}
			continue
		}
		add(pos, where, fmt.Sprintf(format, args...))
	}
	return ps
}

// oneOf rewrites the errors of a disjunction of literal values (every
// alternative "conflicting values ALT and GOT") as one message listing the
// allowed values.
func oneOf(alts []cueerrors.Error) (string, bool) {
	if len(alts) == 0 {
		return "", false
	}
	var allowed []string
	var got string
	for _, a := range alts {
		format, args := a.Msg()
		if !strings.HasPrefix(format, "conflicting values %s and %s") || len(args) < 2 {
			return "", false
		}
		alt, val := fmt.Sprint(args[0]), fmt.Sprint(args[1])
		if got != "" && val != got {
			return "", false
		}
		got = val
		allowed = append(allowed, alt)
	}
	return fmt.Sprintf("%s is not allowed; use one of %s", got, strings.Join(allowed, ", ")), true
}

func userPos(e cueerrors.Error, files map[string]shifts) (config.Position, bool) {
	for _, p := range cueerrors.Positions(e) {
		name := p.Filename()
		if sh, ok := files[name]; ok {
			return mapPos(p, name, sh), true
		}
	}
	return config.Position{}, false
}

func nearestPos(raw cue.Value, errPath []string, files map[string]shifts) (config.Position, bool) {
	sels := trimSchemaRoot(errPath)
	for n := len(sels); n >= 0; n-- {
		v := raw.LookupPath(cue.ParsePath(strings.Join(quoteLabels(sels[:n]), ".")))
		if !v.Exists() {
			continue
		}
		p := v.Pos()
		if sh, ok := files[p.Filename()]; ok {
			return mapPos(p, p.Filename(), sh), true
		}
	}
	return config.Position{}, false
}

// trimSchemaRoot drops the schema definition (#Project, #Repo) that leads
// the path of an error found while unifying with the schema.
func trimSchemaRoot(p []string) []string {
	if len(p) > 0 && strings.HasPrefix(p[0], "#") {
		return p[1:]
	}
	return p
}

func quoteLabels(p []string) []string {
	out := make([]string, len(p))
	for i, s := range p {
		switch {
		case isIndex(s):
			out[i] = "[" + s + "]"
		case isIdent(s):
			out[i] = s
		default:
			out[i] = fmt.Sprintf("%q", s)
		}
	}
	// A path may not start with an index selector written as "[i]" joined
	// by dots; ParsePath accepts "a.b[0]" but not "a.[0]".
	return joinIndexes(out)
}

func joinIndexes(parts []string) []string {
	var out []string
	for _, p := range parts {
		if strings.HasPrefix(p, "[") && len(out) > 0 {
			out[len(out)-1] += p
			continue
		}
		out = append(out, p)
	}
	return out
}

// formatPath renders an error path as a.b[0].c.
func formatPath(p []string) string {
	return strings.Join(joinIndexes(quoteLabels(trimSchemaRoot(p))), ".")
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || r == '$' || r == '#' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
