package forgecli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

func newReleaseRetry(s streams) *cobra.Command {
	o := &apiOptions{}
	var wait bool
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "retry RUN-ID",
		Short: "Re-run what failed in a run's release stage",
		Long: `retry reopens a run that failed in its release stage (all its phases
succeeded, then an artifact, a publisher or a release failed) and re-runs
only what failed: the artifacts whose producer or publishers failed (the
publishers that succeeded are not run again), then the releases that were
not made. Its tasks, and the artifacts and releases that succeeded, keep
their outcome. A run that failed in a phase needs a fix and a new commit.

The run's ID is in 'forge run list --status failed' and in what the
failed run reported. With --wait, retry follows the run to its end and
exits 1 if it failed again.`,
		Example: "  forge release retry 0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b0c --wait",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if every <= 0 {
				return &exitError{code: ExitUsage, msg: "--interval must be positive"}
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			before, err := c.GetRun(ctx, args[0])
			if err != nil {
				return apiError(err)
			}
			run, err := c.RetryRun(ctx, args[0])
			if err != nil {
				return apiError(err)
			}
			fmt.Fprintf(s.err, "run %s reopened: retrying its release stage (it failed: %s)\n", run.ID, orNone(before.Reason))
			if !wait {
				return o.print(s.out, run, func(tw *tabwriter.Writer) {
					fmt.Fprintf(tw, "run %s %s\tfollow it with: forge run get %s\n", run.ID, run.Status, run.ID)
				})
			}
			final, err := awaitRun(ctx, c, run.ID, every)
			if err != nil {
				return apiError(err)
			}
			if err := o.print(s.out, final, func(tw *tabwriter.Writer) { printRun(tw, final) }); err != nil {
				return err
			}
			if final.Status != pipeline.StatusSuccess {
				return failed("run %s ended %s: %s", final.ID, final.Status, orNone(final.Reason))
			}
			return nil
		},
	}
	o.flags(cmd.Flags())
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the run to its end; exit 1 unless it succeeds")
	cmd.Flags().DurationVar(&every, "interval", 2*time.Second, "with --wait, how often to look at the run")
	return cmd
}

// awaitRun polls a run's status (one indexed read) until it has ended,
// then returns the whole run.
func awaitRun(ctx context.Context, c *httptransport.Client, id string, every time.Duration) (*endpoints.RunResponse, error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		st, err := c.RunStatus(ctx, id)
		if err != nil {
			return nil, err
		}
		if st.Terminal() {
			return c.GetRun(ctx, id)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
