package forgecli

import (
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/config"
)

func TestVersion(t *testing.T) {
	r := forge(t, "version")
	r.wantCode(t, ExitOK)
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing", r.stderr)
	}
	got := lines(r.stdout)
	if len(got) != 1 {
		t.Fatalf("version printed %d lines, want 1:\n%s", len(got), r.stdout)
	}
	if !strings.HasPrefix(got[0], "forge "+Version+" ") {
		t.Errorf("version line %q does not start with %q", got[0], "forge "+Version+" ")
	}
	if want := "configuration schema " + config.SchemaVersion; !strings.Contains(got[0], want) {
		t.Errorf("version line %q does not name the schema version (%q)", got[0], want)
	}
}

func TestVersionRejectsArguments(t *testing.T) {
	r := forge(t, "version", "extra")
	r.wantCode(t, ExitUsage)
	if !strings.Contains(r.stderr, `unknown command "extra"`) {
		t.Errorf("stderr does not report the extra argument:\n%s", r.stderr)
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{
			"forge is the command line of Catalyst Forge",
			"Usage:",
			"forge [command]",
			"validate", "discover", "init", "version",
		}},
		{[]string{"validate", "--help"}, []string{
			"Validate checks .forge/repo.cue",
			"Usage:",
			"forge validate [DIR] [flags]",
			"--output",
		}},
		{[]string{"discover", "--help"}, []string{
			"Discover walks the repository",
			"Usage:",
			"forge discover [DIR] [flags]",
			"--branch", "--tag", "--commit", "--output",
		}},
		{[]string{"init", "--help"}, []string{
			"Init creates DIR/.forge/project.cue",
			"Usage:",
			"forge init NAME [flags]",
			"--path",
		}},
		{[]string{"help", "init"}, []string{"forge init NAME [flags]"}},
		{nil, []string{"Usage:", "forge [command]"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"forge"}, tt.args...), " "), func(t *testing.T) {
			r := forge(t, tt.args...)
			r.wantCode(t, ExitOK)
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("help output does not contain %q:\n%s", w, r.stdout)
				}
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q, want nothing", r.stderr)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `error: unknown command "frobnicate" for "forge"`},
		{"unknown root flag", []string{"--frobnicate"}, "error: unknown flag: --frobnicate"},
		{"unknown validate flag", []string{"validate", "--frobnicate"}, "error: unknown flag: --frobnicate"},
		{"unknown discover flag", []string{"discover", "--frobnicate"}, "error: unknown flag: --frobnicate"},
		{"unknown init shorthand", []string{"init", "x", "-z"}, "error: unknown shorthand flag: 'z' in -z"},
		{"validate two dirs", []string{"validate", "a", "b"}, "error: accepts at most 1 arg(s), received 2"},
		{"init without name", []string{"init"}, "error: accepts 1 arg(s), received 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := forge(t, tt.args...)
			r.wantCode(t, ExitUsage)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			got := lines(r.stderr)
			if len(got) != 2 || got[0] != tt.want || got[1] != "Run 'forge --help' for usage." {
				t.Errorf("stderr:\n%s\nwant:\n%s\nRun 'forge --help' for usage.", r.stderr, tt.want)
			}
		})
	}
}

func TestUnsupportedOutputFormat(t *testing.T) {
	dir := copyExample(t)
	for _, cmd := range []string{"validate", "discover"} {
		t.Run(cmd, func(t *testing.T) {
			r := forge(t, cmd, dir, "--output", "yaml")
			r.wantCode(t, ExitUsage)
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			if want := "error: --output \"yaml\" is not supported (use text or json)\n"; r.stderr != want {
				t.Errorf("stderr = %q, want %q", r.stderr, want)
			}
		})
	}
}
