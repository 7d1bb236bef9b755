package cueconfig

import (
	"strings"

	"cuelang.org/go/cue/scanner"
	"cuelang.org/go/cue/token"
)

// The spec writes attributes in value position (`image: @artifact("x")`),
// which CUE's grammar rejects: an attribute must follow a value. Before
// parsing, the loader puts CUE's top value `_` in front of every attribute
// that directly follows a colon, so `image: @artifact("x")` is read as
// `image:_@artifact("x")`. Where a blank precedes the attribute the blank
// becomes the `_` and no column moves; otherwise one byte is inserted and
// the shift is remembered so that positions can be mapped back.

// placeholder is the value written in front of a value-position attribute.
const placeholder = "_"

// insertion records one byte inserted on a line of the rewritten source, at
// 1-based column col of the rewritten line.
type insertion struct{ line, col int }

// shifts maps positions in rewritten source back to the user's source.
type shifts []insertion

// column returns the user's column for a rewritten line and column.
func (s shifts) column(line, col int) int {
	n := 0
	for _, in := range s {
		if in.line == line && in.col < col {
			n++
		}
	}
	return col - n
}

// valueAttributes returns src with a placeholder in front of every
// attribute in value position, and the insertions it made. Source that does
// not scan is returned unchanged: the parser reports its errors.
func valueAttributes(filename string, src []byte) ([]byte, shifts) {
	if !strings.Contains(string(src), "@") {
		return src, nil
	}
	file := token.NewFile(filename, -1, len(src))
	var sc scanner.Scanner
	failed := false
	sc.Init(file, src, func(token.Pos, string, []interface{}) { failed = true }, 0)

	var offsets []int // offsets of value-position attributes
	prev := token.ILLEGAL
	// interp holds, for each open string interpolation, the parenthesis
	// depth at which it resumes.
	var interp []int
	depth := 0
	for {
		pos, tok, _ := sc.Scan()
		if tok == token.EOF || failed {
			break
		}
		switch tok {
		case token.INTERPOLATION:
			interp = append(interp, depth)
		case token.LPAREN:
			depth++
		case token.RPAREN:
			depth--
			if n := len(interp); n > 0 && interp[n-1] == depth {
				// The parenthesis that closes an interpolated expression.
				interp = interp[:n-1]
				if rest := sc.ResumeInterpolation(); strings.HasSuffix(rest, "(") {
					interp = append(interp, depth)
				}
			}
		case token.ATTRIBUTE:
			if prev == token.COLON {
				offsets = append(offsets, pos.Offset())
			}
		}
		prev = tok
	}
	if failed || len(offsets) == 0 {
		return src, nil
	}

	out := make([]byte, 0, len(src)+len(offsets))
	var ins shifts
	last := 0
	for _, off := range offsets {
		if off > 0 && (src[off-1] == ' ' || src[off-1] == '\t') {
			out = append(out, src[last:off-1]...)
			out = append(out, placeholder...)
		} else {
			out = append(out, src[last:off]...)
			line, col := lineCol(out)
			ins = append(ins, insertion{line: line, col: col})
			out = append(out, placeholder...)
		}
		last = off
	}
	out = append(out, src[last:]...)
	return out, ins
}

// lineCol returns the 1-based line and column of the byte that would follow b.
func lineCol(b []byte) (line, col int) {
	line = 1 + strings.Count(string(b), "\n")
	start := strings.LastIndexByte(string(b), '\n') + 1
	return line, len(b) - start + 1
}
