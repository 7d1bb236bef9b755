// Command forge-dispatcher runs one stage of a pipeline run inside the
// run's Argo Workflow. See 'forge-dispatcher --help'.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/reference/envdefault"
	"github.com/catalyst-forge/forge/reference/forgedispatch"
	"github.com/catalyst-forge/forge/reference/githubflags"
	"github.com/catalyst-forge/forge/reference/objstore"
)

func main() {
	// Argo stops a terminated workflow's pods with SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usage marks an error of the command line itself (exit code 2).
type usage struct{ error }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o forgedispatch.Options
	cmd := &cobra.Command{
		Use:   "forge-dispatcher STAGE --run ID [--group N]",
		Short: "Run one stage of a Catalyst Forge pipeline run (a step of its Argo Workflow)",
		Long: `forge-dispatcher is what the steps of a run's Argo Workflow execute. It
hands the stage's jobs to the workers over NATS JetStream, waits for their
results and records them in the database. STAGE is one of:

  discovery     discover the commit's projects; write the phase group
                numbers to $FORGE_DISPATCH_OUT/phase-groups.json and
                true/false to $FORGE_DISPATCH_OUT/release-enabled
  phase-group   run phase group --group N (every task of it at once); the
                last group completes the run when no release follows
  release       build and publish the artifacts of release-triggered
                projects (artifact jobs), make their releases (release
                jobs: image pushed, release registered), then complete
                the run

Every stage may run again (an Argo retry): finished work is not redone.

Exit codes: 0 the stage is done; 1 the run has ended failed or cancelled,
or the stage could not run (database or NATS unreachable, interrupted):
the workflow stops; 2 the command line is wrong.

Every flag has an environment variable: --run is FORGE_RUN_ID (the
workflow sets it), --database FORGE_DATABASE, --nats FORGE_NATS_URL (give
these two through a Kubernetes Secret), --out FORGE_DISPATCH_OUT, --group
FORGE_GROUP.`,
		Example: `  forge-dispatcher discovery --run 0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b0c
  forge-dispatcher phase-group --run 0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b0c --group 2`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usage{fmt.Errorf("want one STAGE (discovery, phase-group or release), got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Stage = args[0]
			o.Log = stderr
			return forgedispatch.Run(cmd.Context(), o)
		},
	}
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage{err} })
	f := cmd.Flags()
	f.StringVar(&o.RunID, "run", envdefault.String("FORGE_RUN_ID", ""), "the pipeline run's ID")
	f.StringVar(&o.Group, "group", envdefault.String("FORGE_GROUP", ""), "phase-group: the group number (ignored by the other stages)")
	f.StringVar(&o.Database, "database", envdefault.String("FORGE_DATABASE", ""), "database: postgres://user:password@host:5432/db or sqlite:///path/forge.db")
	f.StringVar(&o.NATSURL, "nats", envdefault.String("FORGE_NATS_URL", ""), "the NATS JetStream server the workers take jobs from")
	objstore.Flags(f, &o.Objects, "results too large for a message (the workers' store)")
	f.StringVar(&o.ReportSecretFile, "report-secret-file", envdefault.String("FORGE_REPORT_SECRET_FILE", ""), "file of the secret CI jobs' report keys are made with, shared with forge-api (or set FORGE_REPORT_SECRET)")
	f.StringVar(&o.Policies, "policies", envdefault.String("FORGE_POLICIES", ""), "release: environment promotion policies (YAML), forge-api's --policies; default: dev, staging and production of the spec")
	f.StringVar(&o.OutDir, "out", envdefault.String("FORGE_DISPATCH_OUT", forgedispatch.DefaultOutDir), "discovery: where to write phase-groups.json and release-enabled")
	githubflags.Flags(f, &o.GitHub)
	f.StringVar(&o.EventBridgeBus, "eventbridge-bus", envdefault.String("FORGE_EVENTBRIDGE_BUS", ""), "publish events to this Amazon EventBridge bus (name or ARN) instead of NATS, as forge-api's --eventbridge-bus")
	f.StringVar(&o.MetricsAddr, "metrics-addr", envdefault.String("FORGE_METRICS_ADDR", ""), "serve /metrics (Prometheus), /healthz and /readyz here while the stage runs, e.g. :9090 (empty: off)")

	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return forgedispatch.ExitOK
	}
	fmt.Fprintln(stderr, "error:", err)
	var u usage
	if errors.As(err, &u) {
		fmt.Fprintln(stderr, "Run 'forge-dispatcher --help' for usage.")
		return forgedispatch.ExitUsage
	}
	code := forgedispatch.ExitCode(err)
	if code == forgedispatch.ExitUsage {
		fmt.Fprintln(stderr, "Run 'forge-dispatcher --help' for usage.")
	}
	return code
}
