// Package discoverchild lets the reference binaries (forge, forge-worker)
// discover in a bounded child process: the binary re-executes itself with
// a hidden first argument, and the child serves one discovery
// (discovering.ServeChild). It also holds the flags of the limits, so that
// every binary spells them the same way.
package discoverchild

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/catalyst-forge/forge/application/discovering"
	"github.com/catalyst-forge/forge/reference/envdefault"
)

// Arg is the hidden first argument that makes a reference binary the
// child of one discovery. Nobody types it.
const Arg = "__forge-discovery-child"

// Serve serves one discovery and ends the process when the binary was
// started as a child (os.Args[1] is Arg); otherwise it returns at once.
// Call it first in main, and in TestMain of packages whose tests run the
// discovery of a reference command (the test binary is then the child).
func Serve() {
	if len(os.Args) > 1 && os.Args[1] == Arg {
		os.Exit(discovering.ServeChild(os.Stdin, os.Stdout))
	}
}

// New returns a discovery bounded by limits that runs in a child of the
// running binary, which must call Serve first thing.
func New(limits discovering.Limits) *discovering.Isolated {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0] // starting it reports the error, if any
	}
	return &discovering.Isolated{Path: exe, Args: []string{Arg}, Limits: limits}
}

// Flags adds --discovery-time, --discovery-file-time and
// --discovery-memory (in MiB) to f, with their FORGE_* environment
// fallbacks, filling l.
func Flags(f *pflag.FlagSet, l *discovering.Limits) {
	f.DurationVar(&l.Time, "discovery-time", envdefault.Duration("FORGE_DISCOVERY_TIME", discovering.DefaultTime),
		"longest a discovery may take before it fails")
	f.DurationVar(&l.FileTime, "discovery-file-time", envdefault.Duration("FORGE_DISCOVERY_FILE_TIME", discovering.DefaultFileTime),
		"longest the evaluation of one .forge configuration may take")
	l.Memory = int64(envdefault.Int("FORGE_DISCOVERY_MEMORY", discovering.DefaultMemory>>20)) << 20
	f.Var((*mib)(&l.Memory), "discovery-memory", "most memory a discovery may use, in MiB")
}

// mib is a byte count given on the command line in MiB.
type mib int64

func (m *mib) String() string { return strconv.FormatInt(int64(*m)>>20, 10) }
func (m *mib) Type() string   { return "MiB" }
func (m *mib) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 1<<30 {
		return fmt.Errorf("%q is not a positive number of MiB", s)
	}
	*m = mib(n << 20)
	return nil
}
