package cueconfig

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/catalyst-forge/forge/domain/config"
)

// attrResolver rewrites the @repo() and @artifact() attributes of one
// parsed file: @repo(path="x.y") is replaced by the repository value at that
// path (unified with whatever the field already says), and @artifact("a.b")
// is recorded as an unresolved reference whose value is null until a
// release fills it.
type attrResolver struct {
	file   string
	shifts shifts
	// repo is the repository configuration as plain data, or nil while the
	// repository configuration itself is being loaded.
	repo     any
	refs     []config.ArtifactRef
	sources  []config.SourceRef
	problems config.Problems
}

func (r *attrResolver) position(p token.Pos) config.Position {
	return mapPos(p, r.file, r.shifts)
}

func (r *attrResolver) errorf(p token.Pos, format string, args ...any) {
	r.problems = append(r.problems, config.Errorf(r.position(p), format, args...))
}

// resolve walks every declaration of f.
func (r *attrResolver) resolve(f *ast.File) {
	r.decls(f.Decls, nil, true)
}

// decls walks declarations at path; known is false when the path cannot be
// known statically (under a pattern, a for comprehension or a definition).
func (r *attrResolver) decls(decls []ast.Decl, path []cue.Selector, known bool) {
	for _, d := range decls {
		switch d := d.(type) {
		case *ast.Field:
			r.field(d, path, known)
		case *ast.EmbedDecl:
			r.expr(d.Expr, path, known)
		case *ast.Comprehension:
			onlyIfs := true
			for _, c := range d.Clauses {
				if _, ok := c.(*ast.IfClause); !ok {
					onlyIfs = false
				}
			}
			r.expr(d.Value, path, known && onlyIfs)
		case *ast.LetClause:
			r.expr(d.Expr, path, false)
		case *ast.Attribute:
			if name := d.Name(); name == "repo" || name == "artifact" {
				r.errorf(d.At, "@%s must be attached to a field, as in `field: @%s(...)`", name, name)
			}
		}
	}
}

func (r *attrResolver) expr(e ast.Expr, path []cue.Selector, known bool) {
	switch x := e.(type) {
	case *ast.StructLit:
		r.decls(x.Elts, path, known)
	case *ast.ListLit:
		k := known
		for i, el := range x.Elts {
			switch el.(type) {
			case *ast.Comprehension, *ast.Ellipsis:
				k = false
			}
			r.expr(el, append(clonePath(path), cue.Index(i)), k)
		}
	case *ast.BinaryExpr:
		r.expr(x.X, path, known)
		r.expr(x.Y, path, known)
	case *ast.ParenExpr:
		r.expr(x.X, path, known)
	case *ast.Comprehension:
		r.expr(x.Value, path, false)
	}
}

func (r *attrResolver) field(f *ast.Field, path []cue.Selector, known bool) {
	sel, ok := labelSelector(f.Label)
	p := append(clonePath(path), sel)
	k := known && ok
	// Walk the user's value first: a replacement never holds attributes.
	r.expr(f.Value, p, k)
	r.sourceRef(f, p, k)
	for _, a := range f.Attrs {
		switch a.Name() {
		case "repo":
			r.repoAttr(f, a, p, k)
		case "artifact":
			r.artifactAttr(f, a, p, k)
		}
	}
}

func (r *attrResolver) repoAttr(f *ast.Field, a *ast.Attribute, path []cue.Selector, known bool) {
	if r.repo == nil {
		r.errorf(a.At, "@repo is only allowed in project configuration")
		return
	}
	if !known {
		r.errorf(a.At, "@repo must be on a field with a fixed path (not under a pattern, a for comprehension or a definition)")
		return
	}
	arg, err := attrArg(a, "path")
	if err != nil {
		r.errorf(a.At, "@repo: %v; write @repo(path=\"phases.test.timeout\")", err)
		return
	}
	val, err := lookupData(r.repo, arg)
	if err != nil {
		r.errorf(a.At, "@repo(path=%q): %v", arg, err)
		return
	}
	data, err := json.Marshal(val)
	if err != nil {
		r.errorf(a.At, "@repo(path=%q): %v", arg, err)
		return
	}
	x, err := parser.ParseExpr("repo.cue", data)
	if err != nil {
		r.errorf(a.At, "@repo(path=%q): %v", arg, err)
		return
	}
	setPosDeep(x, a.At)
	f.Value = conjoin(f.Value, x, a.At)
}

func (r *attrResolver) artifactAttr(f *ast.Field, a *ast.Attribute, path []cue.Selector, known bool) {
	if !known {
		r.errorf(a.At, "@artifact must be on a field with a fixed path (not under a pattern, a for comprehension or a definition)")
		return
	}
	ref, err := attrArg(a, "ref", "name")
	if err != nil {
		r.errorf(a.At, "@artifact: %v; write @artifact(\"artifact-name.field\")", err)
		return
	}
	name, field, ok := strings.Cut(ref, ".")
	if !ok || name == "" || field == "" {
		r.errorf(a.At, "@artifact(%q): a reference names an artifact and one of its output fields, as in \"web.uri\"", ref)
		return
	}
	cp := cue.MakePath(path...)
	if len(path) == 0 || path[0].String() != "deployment" {
		r.errorf(a.At, "@artifact(%q) at %s: artifact references are only resolved under deployment", ref, cp)
		return
	}
	r.refs = append(r.refs, config.ArtifactRef{
		Path: cp.String(), Ref: ref, Artifact: name, Field: field, Pos: r.position(a.At),
	})
	null := ast.NewNull()
	ast.SetPos(null, a.At)
	f.Value = null
}

// sourcePrefixes start the infrastructure references of spec 08.
var sourcePrefixes = []string{"outputs/", "connections/", "secrets/", "configs/"}

// sourceRef records a "source" field of a deployment resource whose value
// is a string written as an infrastructure reference.
func (r *attrResolver) sourceRef(f *ast.Field, path []cue.Selector, known bool) {
	if !known || len(path) < 2 || path[0].String() != "deployment" || path[len(path)-1].String() != "source" {
		return
	}
	lit, ok := f.Value.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return
	}
	v, err := strconv.Unquote(lit.Value)
	if err != nil {
		return
	}
	isRef := strings.Contains(v, "::")
	for _, p := range sourcePrefixes {
		isRef = isRef || strings.HasPrefix(v, p)
	}
	if isRef {
		r.sources = append(r.sources, config.SourceRef{Path: cue.MakePath(path...).String(), Value: v, Pos: r.position(lit.ValuePos)})
	}
}

// conjoin returns value & x, or just x when value is the placeholder `_`.
func conjoin(value, x ast.Expr, at token.Pos) ast.Expr {
	if id, ok := value.(*ast.Ident); ok && id.Name == placeholder {
		return x
	}
	b := &ast.BinaryExpr{X: value, Op: token.AND, Y: x}
	b.OpPos = at
	return b
}

func setPosDeep(n ast.Node, p token.Pos) {
	ast.Walk(n, func(n ast.Node) bool {
		ast.SetPos(n, p)
		return true
	}, nil)
}

func clonePath(p []cue.Selector) []cue.Selector {
	return append(make([]cue.Selector, 0, len(p)+1), p...)
}

// labelSelector returns the selector of a regular field's label; ok is
// false for definitions, hidden fields, patterns and dynamic labels.
func labelSelector(l ast.Label) (cue.Selector, bool) {
	switch x := l.(type) {
	case *ast.Ident:
		if strings.HasPrefix(x.Name, "#") || strings.HasPrefix(x.Name, "_") {
			return cue.Selector{}, false
		}
		return cue.Str(x.Name), true
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			if s, err := strconv.Unquote(x.Value); err == nil {
				return cue.Str(s), true
			}
		}
	}
	return cue.Selector{}, false
}

// attrArg returns an attribute's single argument: either positional or
// given with one of the accepted keys.
func attrArg(a *ast.Attribute, keys ...string) (string, error) {
	_, body := a.Split()
	args, err := splitAttrArgs(body)
	if err != nil {
		return "", err
	}
	if len(args) != 1 {
		return "", fmt.Errorf("expected one argument, found %d", len(args))
	}
	key, val := args[0].key, args[0].value
	if key != "" {
		found := false
		for _, k := range keys {
			found = found || k == key
		}
		if !found {
			return "", fmt.Errorf("unknown argument %q (use %s)", key, strings.Join(keys, " or "))
		}
	}
	if val == "" {
		return "", fmt.Errorf("the argument is empty")
	}
	return val, nil
}

type attrArgument struct{ key, value string }

// splitAttrArgs splits an attribute body such as `path="a.b", x` into
// arguments, unquoting double-quoted values.
func splitAttrArgs(body string) ([]attrArgument, error) {
	var args []attrArgument
	var parts []string
	start, inQuote := 0, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			parts = append(parts, body[start:i])
			start = i + 1
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated string in %q", body)
	}
	parts = append(parts, body[start:])
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		var a attrArgument
		if k, v, ok := strings.Cut(p, "="); ok && !strings.HasPrefix(p, `"`) {
			a.key, p = strings.TrimSpace(k), strings.TrimSpace(v)
		}
		if strings.HasPrefix(p, `"`) {
			s, err := strconv.Unquote(p)
			if err != nil {
				return nil, fmt.Errorf("bad string %s", p)
			}
			p = s
		}
		a.value = p
		args = append(args, a)
	}
	return args, nil
}

// lookupData finds the value at a CUE path in plain data (maps and lists
// decoded from JSON).
func lookupData(data any, path string) (any, error) {
	p := cue.ParsePath(path)
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("%q is not a path: %v", path, err)
	}
	cur := data
	for i, sel := range p.Selectors() {
		where := cue.MakePath(p.Selectors()[:i+1]...).String()
		switch sel.Type() {
		case cue.StringLabel:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("the repository configuration has no field %s", where)
			}
			v, ok := m[sel.Unquoted()]
			if !ok {
				return nil, fmt.Errorf("the repository configuration has no field %s", where)
			}
			cur = v
		case cue.IndexLabel:
			l, ok := cur.([]any)
			if !ok || sel.Index() >= len(l) {
				return nil, fmt.Errorf("the repository configuration has no element %s", where)
			}
			cur = l[sel.Index()]
		default:
			return nil, fmt.Errorf("%s: only field names and list indices can be looked up", where)
		}
	}
	return cur, nil
}
