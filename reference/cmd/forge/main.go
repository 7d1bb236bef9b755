// Command forge is the Catalyst Forge command line. See 'forge --help'.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/catalyst-forge/forge/reference/forgecli"
	"github.com/catalyst-forge/forge/reference/internal/discoverchild"
)

func main() {
	// forge runs for a fraction of a second and allocates heavily while
	// evaluating CUE: collecting garbage less often makes discovery of a
	// large monorepo about 15% faster (docs/benchmarks.md). GOGC wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// Discovery evaluates the repository's CUE in a child: this binary,
	// started again with a hidden argument (reference/internal/discoverchild).
	// The child keeps the GOGC above; its memory limit bounds the heap.
	discoverchild.Serve()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := forgecli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
