package config

import (
	"fmt"
	"sort"
	"strings"
)

// Position is a place in a configuration file: a slash-separated path
// relative to the repository root, and a 1-based line and column (zero when
// unknown).
type Position struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// String formats the position as file:line:col, leaving out what is unknown.
func (p Position) String() string {
	switch {
	case p.Line > 0 && p.Column > 0:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return p.File
	}
}

// Severity says whether a problem stops a configuration from being used.
type Severity string

// Problems are errors unless they are warnings; warnings never stop loading.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one thing wrong with a configuration, at a position.
type Problem struct {
	Pos      Position
	Message  string
	Severity Severity
}

// Error formats the problem as file:line:col: message.
func (p Problem) Error() string {
	if p.Pos.File == "" {
		return p.Message
	}
	return p.Pos.String() + ": " + p.Message
}

// Errorf returns an error-severity problem at pos.
func Errorf(pos Position, format string, args ...any) Problem {
	return Problem{Pos: pos, Message: fmt.Sprintf(format, args...), Severity: SeverityError}
}

// Warnf returns a warning at pos.
func Warnf(pos Position, format string, args ...any) Problem {
	return Problem{Pos: pos, Message: fmt.Sprintf(format, args...), Severity: SeverityWarning}
}

// Problems is a list of problems; as an error it reads one problem a line.
type Problems []Problem

// Error joins the problems one a line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any problem is an error rather than a warning.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity != SeverityWarning {
			return true
		}
	}
	return false
}

// Split returns the errors and the warnings, each in their original order.
func (ps Problems) Split() (errs, warnings Problems) {
	for _, p := range ps {
		if p.Severity == SeverityWarning {
			warnings = append(warnings, p)
		} else {
			errs = append(errs, p)
		}
	}
	return errs, warnings
}

// Sort orders problems by file, line, column and message, so that output is
// stable whatever order they were found in.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Column != b.Pos.Column {
			return a.Pos.Column < b.Pos.Column
		}
		return a.Message < b.Message
	})
}
