// Package proctest finds processes by their command line in /proc, for
// the reference packages' tests that check a stopped step leaves nothing
// running.
package proctest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Running returns the PIDs of live processes whose command line holds
// cmd. A zombie (ended, waiting for its parent) does not count.
func Running(t testing.TB, cmd string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("cannot list processes: %v", err)
	}
	var pids []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), cmd) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(stat), ") Z ") {
			continue
		}
		pids = append(pids, e.Name())
	}
	return pids
}

// Gone fails the test unless every process whose command line holds cmd
// is gone within three seconds.
func Gone(t testing.TB, cmd string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		pids := Running(t, cmd)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%q still runs (pids %v)", cmd, pids)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
