package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestCommandLineErrorsExitTwo(t *testing.T) {
	t.Setenv("FORGE_RUN_ID", "run-from-env")
	t.Setenv("FORGE_DATABASE", "")
	t.Setenv("FORGE_NATS_URL", "")
	tests := []struct {
		args []string
		want string
	}{
		{nil, "want one STAGE"},
		{[]string{"discovery", "extra"}, "want one STAGE"},
		{[]string{"deploy"}, `unknown stage "deploy"`},
		{[]string{"discovery", "--bogus"}, "unknown flag: --bogus"},
		// The run ID comes from FORGE_RUN_ID: the next thing missing is the group.
		{[]string{"phase-group", "--group", ""}, "--group N"},
		{[]string{"discovery", "--group", ""}, "FORGE_DATABASE"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tt.want) || !strings.Contains(stderr.String(), "--help") {
			t.Errorf("forge-dispatcher %q: exit %d, stderr %q; want 2 and a message with %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

func TestHelpNamesStagesExitCodesAndVariables(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--help: exit %d, %s", code, stderr.String())
	}
	for _, want := range []string{"discovery", "phase-group", "release", "Exit codes", "FORGE_RUN_ID", "FORGE_DATABASE", "FORGE_NATS_URL", "FORGE_DISPATCH_OUT"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
}
