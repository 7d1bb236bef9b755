package gitcache

import "testing"

// TestSubcommandSkipsSettings: an error names git's subcommand, not the
// value of a -c setting before it.
func TestSubcommandSkipsSettings(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-c", "core.hooksPath=/dev/null", "--git-dir=/x", "-c", "checkout.workers=2", "read-tree", "--reset"}, "read-tree"},
		{[]string{"--git-dir=/x", "fetch", "--quiet"}, "fetch"},
		{[]string{"-c", "a=b"}, ""},
	} {
		if got := subcommand(tt.args); got != tt.want {
			t.Errorf("subcommand(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
