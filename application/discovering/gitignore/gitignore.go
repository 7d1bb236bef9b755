package gitignore

import (
	"path"
	"strings"
)

// Matcher holds the patterns of one .gitignore file.
//
// It is produced once per file by [Parse], is immutable afterwards and can be
// shared freely between goroutines and between the [Stack] values of every
// directory below the one that holds the file.
type Matcher struct {
	// dir is the slash-separated directory of the .gitignore, relative to
	// the repository root, without leading or trailing slash ("" for root).
	dir string
	// patterns in file order; matching scans them backwards so that the
	// last matching line wins.
	patterns []pattern
}

// pattern is one compiled .gitignore line.
type pattern struct {
	negate   bool // line started with '!': a match re-includes
	dirOnly  bool // line ended with '/': only directories match
	anchored bool // line contained a '/': matched against the whole relative path

	// literal reports that an anchored pattern has no wildcard at all, so a
	// plain string comparison against exact is enough.
	literal bool
	exact   string

	// base is used when !anchored: it is matched against the basename.
	base glob
	// segs is used when anchored && !literal: one entry per '/'-separated
	// component of the pattern.
	segs []segment
}

// segment is one '/'-separated component of an anchored pattern.
type segment struct {
	dstar bool // the component is "**": zero or more path components
	g     glob // otherwise, the glob that one path component must match
}

// globKind selects a specialised matching strategy for a glob, so that the
// very common shapes ("name", "*.ext", "prefix*", "*") avoid the generic
// matcher entirely.
type globKind uint8

const (
	globLiteral globKind = iota // s == lit
	globAll                     // "*": anything
	globPrefix                  // "lit*"
	globSuffix                  // "*lit"
	globGeneral                 // anything else: toks
)

// glob matches a single path component (a string without '/').
type glob struct {
	kind globKind
	lit  string
	toks []token
}

type tokOp uint8

const (
	opLit   tokOp = iota // one literal byte c
	opAny                // '?': any one byte
	opStar               // '*': any run of bytes
	opClass              // '[...]': one byte in set
)

type token struct {
	op  tokOp
	c   byte
	set *byteSet
}

// byteSet is a 256-bit membership bitmap for bracket expressions.
type byteSet [4]uint64

func (b *byteSet) has(c byte) bool { return b[c>>6]&(1<<(c&63)) != 0 }
func (b *byteSet) add(c byte)      { b[c>>6] |= 1 << (c & 63) }

// Parse compiles the content of the .gitignore found in directory dir.
// dir is slash-separated and relative to the repository root ("" for the root).
// Lines that are blank or comments are skipped; it never fails: a line that cannot be compiled is ignored.
//
// Parse is meant to run once per .gitignore file: all the work of splitting,
// unescaping and classifying patterns happens here so that matching does not
// allocate. dir is cleaned ("./a/" and "a" are the same directory). A leading
// UTF-8 byte order mark is skipped, as git does. Lines whose pattern can never
// match in git (an unterminated bracket expression, an unknown [:class:], a
// dangling trailing backslash) are dropped.
func Parse(dir string, content []byte) *Matcher {
	m := &Matcher{dir: cleanDir(dir)}
	text := string(content)
	text = strings.TrimPrefix(text, "\ufeff")
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if p, ok := compileLine(line); ok {
			m.patterns = append(m.patterns, p)
		}
	}
	return m
}

// cleanDir normalises the directory of a .gitignore to the form used for
// prefix checks: no leading/trailing slash, "" for the repository root.
func cleanDir(dir string) string {
	if dir == "" {
		return ""
	}
	dir = strings.Trim(path.Clean("/"+dir), "/")
	return dir
}

// compileLine turns one raw line into a pattern; ok is false for blank
// lines, comments and lines that cannot be compiled.
func compileLine(line string) (p pattern, ok bool) {
	line = strings.TrimSuffix(line, "\r")
	line = trimTrailingSpaces(line)
	if line == "" || line[0] == '#' {
		return p, false
	}
	if line[0] == '!' {
		p.negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		p.dirOnly = true
		line = line[:len(line)-1]
	}
	// Like git, any remaining slash (leading, middle, or even inside a
	// bracket expression) anchors the pattern to the .gitignore directory.
	p.anchored = strings.IndexByte(line, '/') >= 0
	line = strings.TrimPrefix(line, "/")
	if line == "" {
		return p, false
	}

	comps, valid := tokenize(line)
	if !valid {
		return p, false
	}

	if !p.anchored {
		p.base = newGlob(comps[0])
		return p, true
	}

	segs := make([]segment, 0, len(comps)+1)
	for _, toks := range comps {
		if isDoubleStar(toks) {
			if len(segs) > 0 && segs[len(segs)-1].dstar {
				continue // "**/**" is the same as "**"
			}
			segs = append(segs, segment{dstar: true})
			continue
		}
		segs = append(segs, segment{g: newGlob(toks)})
	}
	// A trailing "/**" matches everything inside, but not the directory
	// itself: it needs at least one more component, i.e. "*" then "**".
	if segs[len(segs)-1].dstar {
		segs[len(segs)-1] = segment{g: glob{kind: globAll}}
		segs = append(segs, segment{dstar: true})
	}
	// "**/x" with a single component x is exactly an unanchored "x".
	if len(segs) == 2 && segs[0].dstar && !segs[1].dstar {
		p.anchored = false
		p.base = segs[1].g
		return p, true
	}
	// No wildcard anywhere: a single string comparison does the job.
	literal := true
	for i := range segs {
		if segs[i].dstar || segs[i].g.kind != globLiteral {
			literal = false
			break
		}
	}
	if literal {
		parts := make([]string, len(segs))
		for i := range segs {
			parts[i] = segs[i].g.lit
		}
		p.literal = true
		p.exact = strings.Join(parts, "/")
		return p, true
	}
	p.segs = segs
	return p, true
}

// trimTrailingSpaces drops trailing spaces unless the first of them is
// escaped with a backslash. Like git, only ' ' is trimmed (not tabs) and a
// line ending in a lone backslash is left untouched.
func trimTrailingSpaces(s string) string {
	lastSpace := -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			if lastSpace < 0 {
				lastSpace = i
			}
		case '\\':
			i++
			if i >= len(s) {
				return s
			}
			lastSpace = -1
		default:
			lastSpace = -1
		}
	}
	if lastSpace >= 0 {
		return s[:lastSpace]
	}
	return s
}

// isDoubleStar reports whether a component consists only of two or more
// unescaped stars, which git treats as the special "**" component.
func isDoubleStar(toks []token) bool {
	if len(toks) < 2 {
		return false
	}
	for _, t := range toks {
		if t.op != opStar {
			return false
		}
	}
	return true
}

// tokenize splits a pattern on unescaped '/' (outside bracket expressions)
// and turns each component into tokens. ok is false when the pattern is
// malformed in a way that makes git never match it.
func tokenize(p string) (comps [][]token, ok bool) {
	cur := []token{}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '/':
			comps = append(comps, cur)
			cur = []token{}
		case '\\':
			i++
			if i >= len(p) {
				return nil, false
			}
			if p[i] == '/' {
				// An escaped slash still separates components, as in git.
				comps = append(comps, cur)
				cur = []token{}
				continue
			}
			cur = append(cur, token{op: opLit, c: p[i]})
		case '?':
			cur = append(cur, token{op: opAny})
		case '*':
			cur = append(cur, token{op: opStar})
		case '[':
			set, next, valid := parseClass(p, i)
			if !valid {
				return nil, false
			}
			cur = append(cur, token{op: opClass, set: set})
			i = next
		default:
			cur = append(cur, token{op: opLit, c: c})
		}
	}
	comps = append(comps, cur)
	return comps, true
}

// parseClass compiles the bracket expression starting at p[open] == '[' into
// a byte set following git's wildmatch: '!' or '^' negates, a leading ']' is
// literal, "a-z" is a range, '\' escapes, "[:name:]" is a POSIX class. It
// returns the index of the closing ']'.
func parseClass(p string, open int) (set *byteSet, closing int, ok bool) {
	var s byteSet
	j := open + 1
	negate := false
	if j < len(p) && (p[j] == '!' || p[j] == '^') {
		negate = true
		j++
	}
	prev := -1 // previous single character, start of a possible range
	for first := true; ; first = false {
		if j >= len(p) {
			return nil, 0, false
		}
		c := p[j]
		if c == ']' && !first {
			break
		}
		switch {
		case c == '\\':
			j++
			if j >= len(p) {
				return nil, 0, false
			}
			s.add(p[j])
			prev = int(p[j])
		case c == '-' && prev >= 0 && j+1 < len(p) && p[j+1] != ']':
			j++
			hi := p[j]
			if hi == '\\' {
				j++
				if j >= len(p) {
					return nil, 0, false
				}
				hi = p[j]
			}
			for x := prev; x <= int(hi); x++ {
				s.add(byte(x))
			}
			prev = -1
		case c == '[' && j+1 < len(p) && p[j+1] == ':':
			end := strings.IndexByte(p[j+2:], ']')
			if end < 0 {
				return nil, 0, false
			}
			end += j + 2
			if end-(j+2) < 1 || p[end-1] != ':' {
				// No ":]": the '[' is an ordinary member.
				s.add('[')
				prev = '['
				break
			}
			if !addPOSIXClass(&s, p[j+2:end-1]) {
				return nil, 0, false
			}
			j = end
			prev = -1
		default:
			s.add(c)
			prev = int(c)
		}
		j++
	}
	if negate {
		for i := range s {
			s[i] = ^s[i]
		}
	}
	return &s, j, true
}

// addPOSIXClass adds the members of the named class (ASCII, as in git) to s.
func addPOSIXClass(s *byteSet, name string) bool {
	var in func(c byte) bool
	switch name {
	case "alnum":
		in = func(c byte) bool { return isAlpha(c) || isDigit(c) }
	case "alpha":
		in = isAlpha
	case "blank":
		in = func(c byte) bool { return c == ' ' || c == '\t' }
	case "cntrl":
		in = func(c byte) bool { return c < 0x20 || c == 0x7f }
	case "digit":
		in = isDigit
	case "graph":
		in = func(c byte) bool { return c > 0x20 && c < 0x7f }
	case "lower":
		in = func(c byte) bool { return c >= 'a' && c <= 'z' }
	case "print":
		in = func(c byte) bool { return c >= 0x20 && c < 0x7f }
	case "punct":
		in = func(c byte) bool { return c > 0x20 && c < 0x7f && !isAlpha(c) && !isDigit(c) }
	case "space":
		in = func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	case "upper":
		in = func(c byte) bool { return c >= 'A' && c <= 'Z' }
	case "xdigit":
		in = func(c byte) bool { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }
	default:
		return false
	}
	for c := 0; c < 256; c++ {
		if in(byte(c)) {
			s.add(byte(c))
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// newGlob classifies the tokens of one component, collapsing runs of stars
// (which inside a component all mean "*") and picking a fast path when the
// shape allows it.
func newGlob(toks []token) glob {
	collapsed := make([]token, 0, len(toks))
	for _, t := range toks {
		if t.op == opStar && len(collapsed) > 0 && collapsed[len(collapsed)-1].op == opStar {
			continue
		}
		collapsed = append(collapsed, t)
	}
	toks = collapsed

	stars, others := 0, 0
	for _, t := range toks {
		switch t.op {
		case opStar:
			stars++
		case opLit:
		default:
			others++
		}
	}
	litOf := func(ts []token) string {
		b := make([]byte, len(ts))
		for i, t := range ts {
			b[i] = t.c
		}
		return string(b)
	}
	if others == 0 {
		switch {
		case stars == 0:
			return glob{kind: globLiteral, lit: litOf(toks)}
		case stars == 1 && len(toks) == 1:
			return glob{kind: globAll}
		case stars == 1 && toks[len(toks)-1].op == opStar:
			return glob{kind: globPrefix, lit: litOf(toks[:len(toks)-1])}
		case stars == 1 && toks[0].op == opStar:
			return glob{kind: globSuffix, lit: litOf(toks[1:])}
		}
	}
	return glob{kind: globGeneral, toks: toks}
}

// match reports whether the component s (no '/') matches the glob.
func (g *glob) match(s string) bool {
	switch g.kind {
	case globLiteral:
		return s == g.lit
	case globAll:
		return true
	case globPrefix:
		return strings.HasPrefix(s, g.lit)
	case globSuffix:
		return strings.HasSuffix(s, g.lit)
	}
	return matchTokens(g.toks, s)
}

// matchTokens is the classic linear-backtracking wildcard matcher: every
// token but '*' consumes exactly one byte, so remembering only the most
// recent star is enough and the cost is O(len(toks)*len(s)) at worst.
func matchTokens(toks []token, s string) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for si < len(s) {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.op {
			case opStar:
				starT, starS = ti, si
				ti++
				continue
			case opAny:
				ti++
				si++
				continue
			case opLit:
				if s[si] == t.c {
					ti++
					si++
					continue
				}
			case opClass:
				if t.set.has(s[si]) {
					ti++
					si++
					continue
				}
			}
		}
		if starT < 0 {
			return false
		}
		starS++
		si = starS
		ti = starT + 1
	}
	for ti < len(toks) && toks[ti].op == opStar {
		ti++
	}
	return ti == len(toks)
}

// matchSegments matches an anchored pattern against a relative path, one
// '/'-separated component at a time. "**" components play the role of '*'
// over components, so the same single-backtrack strategy as matchTokens
// applies and no allocation or recursion is needed.
func matchSegments(segs []segment, p string) bool {
	n := len(p)
	si, pos := 0, 0
	starSeg, starPos := -1, 0
	for pos <= n {
		end := n
		if i := strings.IndexByte(p[pos:], '/'); i >= 0 {
			end = pos + i
		}
		if si < len(segs) {
			sg := &segs[si]
			if sg.dstar {
				starSeg, starPos = si, pos
				si++
				continue
			}
			if sg.g.match(p[pos:end]) {
				si++
				pos = end + 1
				continue
			}
		}
		if starSeg < 0 {
			return false
		}
		// Let the last "**" swallow one more component and retry.
		if i := strings.IndexByte(p[starPos:], '/'); i >= 0 {
			starPos += i + 1
		} else {
			starPos = n + 1
		}
		pos = starPos
		si = starSeg + 1
	}
	for si < len(segs) && segs[si].dstar {
		si++
	}
	return si == len(segs)
}

// matches reports whether the pattern matches a path, given both its form
// relative to the .gitignore directory (sub) and its basename.
func (p *pattern) matches(sub, base string) bool {
	switch {
	case !p.anchored:
		return p.base.match(base)
	case p.literal:
		return sub == p.exact
	default:
		return matchSegments(p.segs, sub)
	}
}

// decide returns whether some pattern of m matches and, if so, whether the
// last matching one ignores (true) or re-includes (false) the path.
func (m *Matcher) decide(sub, base string, isDir bool) (matched, ignored bool) {
	for i := len(m.patterns) - 1; i >= 0; i-- {
		p := &m.patterns[i]
		if p.dirOnly && !isDir {
			continue
		}
		if p.matches(sub, base) {
			return true, !p.negate
		}
	}
	return false, false
}

// Stack is the set of .gitignore matchers in force for one directory: the
// root's first, deeper ones after. It is immutable; Push returns a new Stack
// sharing the parent (so a walker can keep one per directory cheaply).
//
// Internally it is a linked list from the most recently pushed (deepest)
// matcher to the root's, which is exactly the order in which git consults
// them. The nil *Stack is a valid empty stack.
type Stack struct {
	m      *Matcher
	parent *Stack
}

// Push returns the stack for a subdirectory whose own .gitignore compiled
// to m, leaving s untouched so sibling directories can keep sharing it.
// A nil receiver is an empty stack; m == nil returns s unchanged (as does a
// matcher without any pattern, which cannot change any answer). Matchers
// must be pushed shallowest first: later pushes take precedence.
func (s *Stack) Push(m *Matcher) *Stack {
	if m == nil || len(m.patterns) == 0 {
		return s
	}
	return &Stack{m: m, parent: s}
}

// Ignored reports whether the slash-separated, root-relative path rel (a file, or a directory when isDir) is ignored.
//
// Matchers are consulted from the deepest to the root's; the first one that
// has any pattern matching rel decides, through its last matching pattern
// (so "!" re-includes what earlier lines, or shallower files, excluded).
// A matcher only applies to paths strictly below its own directory.
//
// rel must be clean (no "./", no leading slash, no empty components); a
// trailing slash is accepted and implies isDir. The empty path (the
// repository root) is never ignored.
//
// Ignored does not look at the parent directories of rel: git never
// re-includes anything inside an excluded directory, and the walker is
// expected to not descend into directories reported as ignored, so checking
// parents again would only cost time. It does not allocate and is safe for
// concurrent use.
func (s *Stack) Ignored(rel string, isDir bool) bool {
	if n := len(rel); n > 0 && rel[n-1] == '/' {
		rel = strings.TrimRight(rel, "/")
		isDir = true
	}
	if rel == "" {
		return false
	}
	base := rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		base = rel[i+1:]
	}
	for st := s; st != nil; st = st.parent {
		m := st.m
		sub := rel
		if d := m.dir; d != "" {
			if len(rel) <= len(d) || rel[len(d)] != '/' || rel[:len(d)] != d {
				continue
			}
			sub = rel[len(d)+1:]
		}
		if matched, ignored := m.decide(sub, base, isDir); matched {
			return ignored
		}
	}
	return false
}
