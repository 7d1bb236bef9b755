package config_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/catalyst-forge/forge/domain/config"
)

func TestPositionString(t *testing.T) {
	tests := []struct {
		name string
		pos  config.Position
		want string
	}{
		{"file line column", config.Position{File: "svc/.forge/project.cue", Line: 3, Column: 7}, "svc/.forge/project.cue:3:7"},
		{"file line", config.Position{File: "svc/.forge/project.cue", Line: 3}, "svc/.forge/project.cue:3"},
		{"file only", config.Position{File: ".forge/repo.cue"}, ".forge/repo.cue"},
		{"column without line is dropped", config.Position{File: ".forge/repo.cue", Column: 5}, ".forge/repo.cue"},
		{"no file", config.Position{Line: 3, Column: 4}, ":3:4"},
		{"zero", config.Position{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pos.String(); got != tt.want {
				t.Errorf("%+v.String() = %q, want %q", tt.pos, got, tt.want)
			}
		})
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		name string
		p    config.Problem
		want string
	}{
		{"full position", config.Problem{Pos: config.Position{File: "a.cue", Line: 2, Column: 9}, Message: "bad"}, "a.cue:2:9: bad"},
		{"line only", config.Problem{Pos: config.Position{File: "a.cue", Line: 2}, Message: "bad"}, "a.cue:2: bad"},
		{"file only", config.Problem{Pos: config.Position{File: "a.cue"}, Message: "bad"}, "a.cue: bad"},
		{"no file drops the position", config.Problem{Pos: config.Position{Line: 2, Column: 9}, Message: "bad"}, "bad"},
		{"warning reads the same", config.Problem{Pos: config.Position{File: "a.cue", Line: 1}, Message: "old", Severity: config.SeverityWarning}, "a.cue:1: old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorfWarnf(t *testing.T) {
	pos := config.Position{File: "x.cue", Line: 4, Column: 2}
	e := config.Errorf(pos, "phase %q: group %d", "test", 0)
	want := config.Problem{Pos: pos, Message: `phase "test": group 0`, Severity: config.SeverityError}
	if e != want {
		t.Errorf("Errorf = %+v, want %+v", e, want)
	}
	w := config.Warnf(pos, "newer %s", "v1.1.0")
	want = config.Problem{Pos: pos, Message: "newer v1.1.0", Severity: config.SeverityWarning}
	if w != want {
		t.Errorf("Warnf = %+v, want %+v", w, want)
	}
	// A message with a percent sign passed as an argument is kept verbatim.
	if got := config.Errorf(pos, "%s", "100% sure").Message; got != "100% sure" {
		t.Errorf("Errorf with %%s = %q", got)
	}
}

func TestProblemsError(t *testing.T) {
	tests := []struct {
		name string
		ps   config.Problems
		want string
	}{
		{"nil", nil, ""},
		{"one", config.Problems{config.Errorf(config.Position{File: "a.cue", Line: 1, Column: 2}, "one")}, "a.cue:1:2: one"},
		{
			"one a line, in order",
			config.Problems{
				config.Errorf(config.Position{File: "b.cue", Line: 5}, "second file"),
				config.Warnf(config.Position{File: "a.cue"}, "a warning"),
				config.Errorf(config.Position{}, "no position"),
			},
			"b.cue:5: second file\na.cue: a warning\nno position",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ps.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProblemsIsAnError(t *testing.T) {
	ps := config.Problems{config.Errorf(config.Position{File: "a.cue"}, "boom")}
	err := fmt.Errorf("loading: %w", ps)
	var got config.Problems
	if !errors.As(err, &got) {
		t.Fatalf("errors.As(%v, *Problems) = false", err)
	}
	if !reflect.DeepEqual(got, ps) {
		t.Errorf("errors.As gave %v, want %v", got, ps)
	}
	if err.Error() != "loading: a.cue: boom" {
		t.Errorf("wrapped error reads %q", err.Error())
	}
}

func TestProblemsHasErrors(t *testing.T) {
	warn := config.Warnf(config.Position{File: "a.cue"}, "w")
	errp := config.Errorf(config.Position{File: "a.cue"}, "e")
	tests := []struct {
		name string
		ps   config.Problems
		want bool
	}{
		{"nil", nil, false},
		{"empty", config.Problems{}, false},
		{"only warnings", config.Problems{warn, warn}, false},
		{"one error", config.Problems{errp}, true},
		{"error after warnings", config.Problems{warn, warn, errp}, true},
		{"unset severity counts as an error", config.Problems{{Message: "x"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ps.HasErrors(); got != tt.want {
				t.Errorf("HasErrors() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProblemsSplit(t *testing.T) {
	e1 := config.Errorf(config.Position{File: "z.cue"}, "e1")
	e2 := config.Errorf(config.Position{File: "a.cue"}, "e2")
	e3 := config.Problem{Message: "unset severity"}
	w1 := config.Warnf(config.Position{File: "m.cue"}, "w1")
	w2 := config.Warnf(config.Position{File: "b.cue"}, "w2")
	tests := []struct {
		name      string
		ps        config.Problems
		wantErrs  config.Problems
		wantWarns config.Problems
	}{
		{"nil", nil, nil, nil},
		{"only errors", config.Problems{e1, e2}, config.Problems{e1, e2}, nil},
		{"only warnings", config.Problems{w1, w2}, nil, config.Problems{w1, w2}},
		{"mixed keeps original order", config.Problems{w1, e1, w2, e2, e3}, config.Problems{e1, e2, e3}, config.Problems{w1, w2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, warns := tt.ps.Split()
			if !reflect.DeepEqual(errs, tt.wantErrs) {
				t.Errorf("errors = %v, want %v", errs, tt.wantErrs)
			}
			if !reflect.DeepEqual(warns, tt.wantWarns) {
				t.Errorf("warnings = %v, want %v", warns, tt.wantWarns)
			}
		})
	}
}

func TestProblemsSort(t *testing.T) {
	p := func(file string, line, col int, msg string) config.Problem {
		return config.Errorf(config.Position{File: file, Line: line, Column: col}, "%s", msg)
	}
	tests := []struct {
		name string
		in   config.Problems
		want config.Problems
	}{
		{"nil", nil, nil},
		{
			"by file first",
			config.Problems{p("b.cue", 1, 1, "a"), p("a.cue", 9, 9, "z"), p("", 5, 5, "m")},
			config.Problems{p("", 5, 5, "m"), p("a.cue", 9, 9, "z"), p("b.cue", 1, 1, "a")},
		},
		{
			"then line, numerically",
			config.Problems{p("a.cue", 10, 1, "a"), p("a.cue", 2, 1, "b"), p("a.cue", 0, 0, "c")},
			config.Problems{p("a.cue", 0, 0, "c"), p("a.cue", 2, 1, "b"), p("a.cue", 10, 1, "a")},
		},
		{
			"then column",
			config.Problems{p("a.cue", 3, 12, "a"), p("a.cue", 3, 4, "b"), p("a.cue", 3, 0, "c")},
			config.Problems{p("a.cue", 3, 0, "c"), p("a.cue", 3, 4, "b"), p("a.cue", 3, 12, "a")},
		},
		{
			"then message",
			config.Problems{p("a.cue", 3, 4, "zeta"), p("a.cue", 3, 4, "alpha"), p("a.cue", 3, 4, "mid")},
			config.Problems{p("a.cue", 3, 4, "alpha"), p("a.cue", 3, 4, "mid"), p("a.cue", 3, 4, "zeta")},
		},
		{
			"severity is not a key: equal problems keep their order",
			config.Problems{
				config.Warnf(config.Position{File: "a.cue", Line: 1}, "same"),
				config.Errorf(config.Position{File: "a.cue", Line: 1}, "same"),
			},
			config.Problems{
				config.Warnf(config.Position{File: "a.cue", Line: 1}, "same"),
				config.Errorf(config.Position{File: "a.cue", Line: 1}, "same"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := append(config.Problems(nil), tt.in...)
			got.Sort()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Sort() =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}
