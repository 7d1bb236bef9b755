// Command forge is the Catalyst Forge command line. See 'forge --help'.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/catalyst-forge/forge/reference/forgecli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := forgecli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
