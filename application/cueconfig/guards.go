package cueconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"github.com/catalyst-forge/forge/domain/config"
)

// Cheap guards against configuration that evaluates to far more than it
// says. They run in the calling process, so they catch only the shapes
// they know: a value that references itself into an exponential tree, and
// comprehensions over large literal ranges. Nothing in CUE v0.17 can stop
// an evaluation that has started, so the bound on time and memory for
// everything else is a child process (discovering.Isolated); these guards
// give the common cases a precise error without one, and keep library
// callers that evaluate in-process from the worst of them.
const (
	// MaxExportBytes bounds the exported size of one configuration (its
	// JSON form), like MaxFileBytes bounds its source and
	// discovery.MaxOutputBytes the whole discovery: a value built from a
	// doubling chain of references is refused while it is exported.
	MaxExportBytes = 1 << 20
	// MaxIterations bounds the iterations of nested comprehensions over
	// literal sources (list.Range with constant arguments, list literals).
	MaxIterations = 100_000
)

// checkComprehensions refuses nested comprehensions whose literal sources
// multiply to more than MaxIterations, at the innermost clause that crosses
// the bound.
func checkComprehensions(s *source) config.Problems {
	var ps config.Problems
	listPkg := ""
	for imp := range s.file.ImportSpecs() {
		if imp.Path.Value == `"list"` {
			listPkg = "list"
			if imp.Name != nil {
				listPkg = imp.Name.Name
			}
		}
	}
	product := []*big.Int{big.NewInt(1)}
	ast.Walk(s.file, func(n ast.Node) bool {
		c, ok := n.(*ast.Comprehension)
		if !ok {
			return len(ps) == 0
		}
		total := new(big.Int).Set(product[len(product)-1])
		for _, cl := range c.Clauses {
			fc, ok := cl.(*ast.ForClause)
			if !ok {
				continue
			}
			if size := literalSize(fc.Source, listPkg); size != nil {
				total.Mul(total, size)
			}
			if total.Cmp(big.NewInt(MaxIterations)) > 0 && len(ps) == 0 {
				ps = append(ps, config.Errorf(mapPos(fc.Pos(), s.name, s.shifts),
					"this comprehension iterates %s times with the ones around it; the limit is %d: configuration must evaluate in a moment on every worker",
					total.String(), MaxIterations))
			}
		}
		product = append(product, total)
		return len(ps) == 0
	}, func(n ast.Node) {
		if _, ok := n.(*ast.Comprehension); ok {
			product = product[:len(product)-1]
		}
	})
	return ps
}

// literalSize returns how many values a comprehension source yields when
// that is known from the source text alone, or nil. listPkg is the name the
// file imports CUE's list package as ("" when it does not).
func literalSize(e ast.Expr, listPkg string) *big.Int {
	switch x := e.(type) {
	case *ast.ListLit:
		return big.NewInt(int64(len(x.Elts)))
	case *ast.CallExpr:
		sel, ok := x.Fun.(*ast.SelectorExpr)
		if !ok || len(x.Args) != 3 {
			return nil
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok || listPkg == "" || pkg.Name != listPkg || !isRange(sel.Sel) {
			return nil
		}
		var n [3]*big.Int
		for i, a := range x.Args {
			if n[i] = intLiteral(a); n[i] == nil {
				return nil
			}
		}
		if n[2].Sign() == 0 {
			return nil // CUE reports the error
		}
		span := new(big.Int).Sub(n[1], n[0])
		if span.Sign() != n[2].Sign() {
			return big.NewInt(0)
		}
		return span.Quo(span.Abs(span), new(big.Int).Abs(n[2]))
	}
	return nil
}

// intLiteral reads an integer literal, negative or not, or returns nil.
func intLiteral(e ast.Expr) *big.Int {
	neg := false
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.SUB {
		neg, e = true, u.X
	}
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.INT {
		return nil
	}
	n, ok := parseInt(lit.Value)
	if !ok {
		return nil
	}
	if neg {
		n.Neg(n)
	}
	return n
}

// parseInt parses a CUE integer literal: decimal with _ separators, 0x, 0o
// and 0b, and the K, M, G, T, P multipliers (with an optional i).
func parseInt(s string) (*big.Int, bool) {
	mult := big.NewInt(1)
	for _, m := range []struct {
		suffix string
		base   int64
		power  int64
	}{{"Ki", 1024, 1}, {"Mi", 1024, 2}, {"Gi", 1024, 3}, {"Ti", 1024, 4}, {"Pi", 1024, 5},
		{"K", 1000, 1}, {"M", 1000, 2}, {"G", 1000, 3}, {"T", 1000, 4}, {"P", 1000, 5}} {
		if len(s) > len(m.suffix) && s[len(s)-len(m.suffix):] == m.suffix {
			s = s[:len(s)-len(m.suffix)]
			mult.Exp(big.NewInt(m.base), big.NewInt(m.power), nil)
			break
		}
	}
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			clean = append(clean, s[i])
		}
	}
	n, ok := new(big.Int).SetString(string(clean), 0)
	if !ok {
		return nil, false
	}
	return n.Mul(n, mult), true
}

// errTooLarge is what exportJSON returns for a value over its budget.
var errTooLarge = fmt.Errorf("the configuration expands to more than %d MiB once its references are followed (a value built from references to itself, say); the limit is %d MiB",
	MaxExportBytes>>20, MaxExportBytes>>20)

// exportJSON encodes v as JSON like cue.Value.MarshalJSON, but stops with
// errTooLarge as soon as the output passes MaxExportBytes. A value that
// shares structure (a0: {x: 1, y: 1}, a1: {x: a0, y: a0}, ...) evaluates
// cheaply but exports exponentially; MarshalJSON would build all of it.
func exportJSON(v cue.Value) ([]byte, error) {
	return appendJSON(nil, v)
}

func appendJSON(b []byte, v cue.Value) ([]byte, error) {
	if len(b) > MaxExportBytes {
		return nil, errTooLarge
	}
	v, _ = v.Default()
	switch v.Kind() {
	case cue.StructKind:
		it, err := v.Fields()
		if err != nil {
			return nil, err
		}
		b = append(b, '{')
		first := true
		for it.Next() {
			if !first {
				b = append(b, ',')
			}
			first = false
			if b, err = appendString(b, it.Selector().Unquoted()); err != nil {
				return nil, err
			}
			b = append(b, ':')
			if b, err = appendJSON(b, it.Value()); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case cue.ListKind:
		it, err := v.List()
		if err != nil {
			return nil, err
		}
		b = append(b, '[')
		for i := 0; it.Next(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, it.Value()); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	// Scalars, and values that are not concrete (MarshalJSON says why).
	s, err := v.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return append(b, s...), nil
}

// appendString appends s as a JSON string without escaping HTML, as CUE
// does.
func appendString(b []byte, s string) ([]byte, error) {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
	}
	if plain {
		return append(append(append(b, '"'), s...), '"'), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
}

func isRange(l ast.Label) bool {
	name, _, err := ast.LabelName(l)
	return err == nil && name == "Range"
}
