package config_test

import (
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/config"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want config.Version
	}{
		{"v1.2.3", config.Version{Major: 1, Minor: 2, Patch: 3}},
		{"1.2.3", config.Version{Major: 1, Minor: 2, Patch: 3}},
		{"v0.0.0", config.Version{}},
		{"v10.20.30", config.Version{Major: 10, Minor: 20, Patch: 30}},
		{"v1", config.Version{Major: 1}},
		{"v1.2", config.Version{Major: 1, Minor: 2}},
		{"v1.2.3-rc.1", config.Version{Major: 1, Minor: 2, Patch: 3}},
		{"v1.2.3+build.7", config.Version{Major: 1, Minor: 2, Patch: 3}},
		{"v1.2.3-rc.1+build.7", config.Version{Major: 1, Minor: 2, Patch: 3}},
		{"v2.0.0", config.Version{Major: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := config.ParseVersion(tt.in)
			if err != nil {
				t.Fatalf("ParseVersion(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseVersion(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseVersionMalformed(t *testing.T) {
	tests := []string{
		"",
		"v",
		"V1.2.3",
		"x1.2.3",
		" v1.2.3",
		"v1.2.3 ",
		"v1.2.3.4",
		"v1..3",
		"v1.2.",
		".1.2",
		"va.b.c",
		"v1.2.x",
		"v1.two.3",
		"-1.0.0",
		"+1.0.0",
		"latest",
		"v99999999999999999999.0.0",
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			got, err := config.ParseVersion(in)
			if err == nil {
				t.Fatalf("ParseVersion(%q) = %+v, want an error", in, got)
			}
			if got != (config.Version{}) {
				t.Errorf("ParseVersion(%q) returned %+v with its error, want the zero Version", in, got)
			}
			if want := `"` + in + `"`; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not quote the input %s", err, want)
			}
			if !strings.Contains(err.Error(), "v1.2.3") {
				t.Errorf("error %q does not show the expected form v1.2.3", err)
			}
		})
	}
}

func TestVersionString(t *testing.T) {
	tests := []struct {
		v    config.Version
		want string
	}{
		{config.Version{}, "v0.0.0"},
		{config.Version{Major: 1, Minor: 2, Patch: 3}, "v1.2.3"},
		{config.Version{Major: 12, Minor: 0, Patch: 40}, "v12.0.40"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.v, got, tt.want)
		}
		back, err := config.ParseVersion(tt.want)
		if err != nil || back != tt.v {
			t.Errorf("ParseVersion(%q) = %+v, %v; want round trip to %+v", tt.want, back, err, tt.v)
		}
	}
}

func TestSchemaVersionParses(t *testing.T) {
	v, err := config.ParseVersion(config.SchemaVersion)
	if err != nil {
		t.Fatalf("SchemaVersion %q does not parse: %v", config.SchemaVersion, err)
	}
	if v.String() != config.SchemaVersion {
		t.Errorf("SchemaVersion %q parses to %s", config.SchemaVersion, v)
	}
	if ps := config.CheckVersion(config.SchemaVersion, config.SchemaVersion, config.Position{}); ps != nil {
		t.Errorf("CheckVersion(SchemaVersion, SchemaVersion) = %v, want nil", ps)
	}
}

func TestCheckVersion(t *testing.T) {
	pos := config.Position{File: ".forge/repo.cue", Line: 3, Column: 15}
	tests := []struct {
		name      string
		declared  string
		supported string
		// severity is "" when no problem is expected.
		severity config.Severity
		// contains are substrings the single problem's message must hold.
		contains []string
	}{
		{name: "same version", declared: "v1.0.0", supported: "v1.0.0"},
		{name: "same version without v", declared: "1.0.0", supported: "v1.0.0"},
		{name: "newer patch", declared: "v1.0.7", supported: "v1.0.0"},
		{name: "newer patch same minor", declared: "v1.2.9", supported: "v1.2.3"},
		{name: "older patch", declared: "v1.2.0", supported: "v1.2.3"},
		{name: "older minor", declared: "v1.0.0", supported: "v1.2.0"},
		{name: "older minor newer patch", declared: "v1.1.9", supported: "v1.2.0"},
		{name: "pre-release of same version", declared: "v1.0.0-beta.1", supported: "v1.0.0"},
		{
			name: "newer minor", declared: "v1.1.0", supported: "v1.0.0",
			severity: config.SeverityWarning, contains: []string{"v1.1.0", "v1.0.0", "newer"},
		},
		{
			name: "newer minor older patch", declared: "v1.3.0", supported: "v1.2.5",
			severity: config.SeverityWarning, contains: []string{"v1.3.0", "v1.2.5"},
		},
		{
			name: "much newer minor", declared: "v1.42.0", supported: "v1.0.0",
			severity: config.SeverityWarning, contains: []string{"v1.42.0", "v1.0.0"},
		},
		{
			name: "newer major", declared: "v2.0.0", supported: "v1.0.0",
			severity: config.SeverityError, contains: []string{"v2.0.0", "v1.0.0", "not supported", "major version 2"},
		},
		{
			name: "older major", declared: "v0.9.0", supported: "v1.0.0",
			severity: config.SeverityError, contains: []string{"v0.9.0", "v1.0.0", "not supported", "major version 0"},
		},
		{
			name: "newer major with older minor", declared: "v2.0.0", supported: "v1.5.0",
			severity: config.SeverityError, contains: []string{"v2.0.0", "v1.5.0"},
		},
		{
			name: "malformed declared", declared: "latest", supported: "v1.0.0",
			severity: config.SeverityError, contains: []string{"forgeVersion", `"latest"`},
		},
		{
			name: "empty declared", declared: "", supported: "v1.0.0",
			severity: config.SeverityError, contains: []string{"forgeVersion", `""`},
		},
		{
			name: "too many parts", declared: "v1.0.0.0", supported: "v1.0.0",
			severity: config.SeverityError, contains: []string{"forgeVersion", `"v1.0.0.0"`},
		},
		{
			name: "malformed supported", declared: "v1.0.0", supported: "one",
			severity: config.SeverityError, contains: []string{"supported schema version", `"one"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := config.CheckVersion(tt.declared, tt.supported, pos)
			if tt.severity == "" {
				if ps != nil {
					t.Fatalf("CheckVersion(%q, %q) = %v, want no problem", tt.declared, tt.supported, ps)
				}
				return
			}
			if len(ps) != 1 {
				t.Fatalf("CheckVersion(%q, %q) = %d problems (%v), want 1", tt.declared, tt.supported, len(ps), ps)
			}
			p := ps[0]
			if p.Severity != tt.severity {
				t.Errorf("severity = %q, want %q", p.Severity, tt.severity)
			}
			if p.Pos != pos {
				t.Errorf("position = %v, want %v", p.Pos, pos)
			}
			for _, s := range tt.contains {
				if !strings.Contains(p.Message, s) {
					t.Errorf("message %q does not contain %q", p.Message, s)
				}
			}
			if got := ps.HasErrors(); got != (tt.severity == config.SeverityError) {
				t.Errorf("HasErrors() = %v for a %s", got, tt.severity)
			}
		})
	}
}
