package forgecli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

func newRun(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Create, inspect, list and cancel pipeline runs on the platform",
		Long: `run talks to the forge API (--server, FORGE_SERVER) with a bearer token
(FORGE_TOKEN or --token-file). A run is the pipeline of one commit.`,
	}
	cmd.AddCommand(newRunCreate(s), newRunGet(s), newRunList(s), newRunCancel(s), newRunLogs(s))
	return cmd
}

func newRunCreate(s streams) *cobra.Command {
	o := &apiOptions{}
	var req endpoints.CreateRunRequest
	var gh pipeline.GitHubContext
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Start the pipeline of a commit (returns the existing run if there is one)",
		Long: `create starts the pipeline of a commit. From a GitHub workflow, the
--github-* flags tell the platform where the commit statuses and the pull
request summary go (spec 03's github_context).`,
		Example: `  forge run create --repository acme/monorepo --commit 0123456789abcdef0123456789abcdef01234567 --branch main
  forge run create --repository "$GITHUB_REPOSITORY" --commit "$GITHUB_SHA" --branch "$GITHUB_REF_NAME" \
    --trigger pull_request --github-pr 123 --github-run-id "$GITHUB_RUN_ID"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if gh != (pipeline.GitHubContext{}) {
				req.GitHubContext = &gh
			}
			c, err := o.repoClient(req.Repository)
			if err != nil {
				return err
			}
			run, created, err := c.CreateRun(cmd.Context(), req)
			if err != nil {
				return apiError(err)
			}
			return o.print(s.out, run, func(tw *tabwriter.Writer) {
				state := "created"
				if !created {
					state = "exists"
				}
				fmt.Fprintf(tw, "run %s %s\t%s\n", run.ID, state, run.Status)
			})
		},
	}
	o.flags(cmd.Flags())
	repositoryFlag(cmd, &req.Repository)
	cmd.Flags().StringVar(&req.CommitSHA, "commit", "", "full commit SHA")
	cmd.Flags().StringVar(&req.Branch, "branch", "", "branch the commit was pushed to")
	cmd.Flags().StringVar(&req.TriggerType, "trigger", "manual", "trigger type: push, pull_request or manual")
	cmd.Flags().StringVar(&req.TriggeredBy, "triggered-by", "", "who triggered it (default: the token's subject)")
	cmd.Flags().IntVar(&gh.PRNumber, "github-pr", 0, "the pull request the commit belongs to: the run posts its summary there")
	cmd.Flags().StringVar(&gh.RunID, "github-run-id", "", "the GitHub Actions run that triggered the pipeline")
	cmd.Flags().StringVar(&gh.Context, "github-context", "", "context of the commit statuses (default "+pipeline.DefaultStatusContext+")")
	cmd.Flags().StringVar(&gh.CheckRunID, "github-check-run-id", "", "a check run of the workflow")
	_ = cmd.MarkFlagRequired("commit")
	return cmd
}

func newRunGet(s streams) *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:   "get RUN-ID",
		Short: "Show a run with its phases, tasks and steps",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			run, err := c.GetRun(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			return o.print(s.out, run, func(tw *tabwriter.Writer) { printRun(tw, run) })
		},
	}
	o.flags(cmd.Flags())
	return cmd
}

func printRun(tw *tabwriter.Writer, resp *endpoints.RunResponse) {
	run := &resp.Run
	fmt.Fprintf(tw, "Run\t%s\n", run.ID)
	fmt.Fprintf(tw, "Repository\t%s @ %s (%s)\n", run.Repository, run.CommitSHA, orNone(run.Branch))
	fmt.Fprintf(tw, "Status\t%s\n", run.Status)
	fmt.Fprintf(tw, "Started\t%s\n", run.StartedAt.Format(time.RFC3339))
	if run.CompletedAt != nil {
		fmt.Fprintf(tw, "Completed\t%s (%s)\n", run.CompletedAt.Format(time.RFC3339), run.CompletedAt.Sub(run.StartedAt).Round(time.Second))
	}
	if run.Reason != "" {
		fmt.Fprintf(tw, "Reason\t%s\n", run.Reason)
	}
	defer printRunReleases(tw, resp.Releases)
	if len(run.Phases) == 0 {
		return
	}
	fmt.Fprintln(tw, "\nGROUP\tPHASE\tPROJECT\tSTEP\tSTATUS\tEXIT")
	for _, ph := range run.Phases {
		fmt.Fprintf(tw, "%d\t%s\t\t\t%s\t\n", ph.GroupNumber, ph.Name, ph.Status)
		for _, t := range ph.Tasks {
			fmt.Fprintf(tw, "\t\t%s\t\t%s\t\n", t.ProjectName, t.Status)
			for _, st := range t.Steps {
				code := "-"
				if st.ExitCode != nil {
					code = fmt.Sprint(*st.ExitCode)
				}
				fmt.Fprintf(tw, "\t\t\t%s\t%s\t%s\n", st.Name, st.Status, code)
			}
		}
	}
}

// printRunReleases lists the releases a run created, with their image.
func printRunReleases(tw *tabwriter.Writer, rels []endpoints.ReleaseResponse) {
	if len(rels) == 0 {
		return
	}
	fmt.Fprintln(tw, "\nPROJECT\tRELEASE\tALIASES\tIMAGE")
	for _, r := range rels {
		image := r.OCIURI
		if r.OCIDigest == "" {
			image += " (not pushed)"
		} else {
			image += "@" + r.OCIDigest
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", r.Project, r.Number, aliasList(r.Aliases), image)
	}
}

func newRunList(s streams) *cobra.Command {
	o := &apiOptions{}
	var f ports.RunFilter
	var page ports.Page
	var status string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List runs, newest first",
		Example: `  forge run list --repository acme/monorepo --status running`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			f.Status = pipeline.Status(status)
			list, err := c.ListRuns(cmd.Context(), f, page)
			if err != nil {
				return apiError(err)
			}
			return o.print(s.out, list, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ID\tREPOSITORY\tBRANCH\tCOMMIT\tSTATUS\tSTARTED")
				for _, r := range list.Runs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Repository, orNone(r.Branch), short(r.CommitSHA), r.Status, r.StartedAt.Format(time.RFC3339))
				}
				fmt.Fprintf(tw, "(%d of %d)\n", len(list.Runs), list.Total)
			})
		},
	}
	o.flags(cmd.Flags())
	repositoryFlag(cmd, &f.Repository)
	cmd.Flags().StringVar(&f.Branch, "branch", "", "only runs of this branch")
	cmd.Flags().StringVar(&status, "status", "", "only runs in this status (pending, running, success, failed, cancelled)")
	pageFlags(cmd, &page)
	return cmd
}

func newRunCancel(s streams) *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:   "cancel RUN-ID",
		Short: "Cancel a run that has not finished",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			if err := c.CancelRun(cmd.Context(), args[0]); err != nil {
				return apiError(err)
			}
			fmt.Fprintf(s.out, "run %s cancelled\n", args[0])
			return nil
		},
	}
	o.flags(cmd.Flags())
	return cmd
}

func pageFlags(cmd *cobra.Command, p *ports.Page) {
	cmd.Flags().IntVar(&p.Limit, "limit", 20, "how many to show (at most 100)")
	cmd.Flags().IntVar(&p.Offset, "offset", 0, "how many to skip")
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func newRunLogs(s streams) *cobra.Command {
	o := &apiOptions{}
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs RUN-ID",
		Short: "Print the logs of a run's steps, in run order",
		Long: `logs prints the log of every step of a run that has one, each under a
header naming its phase, project and step. With --follow it waits for steps
that are still running and prints their output as it arrives.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			run, err := c.GetRun(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			printed := 0
			for _, ph := range run.Phases {
				for _, t := range ph.Tasks {
					for _, st := range t.Steps {
						if st.LogsKey == "" && !(follow && !st.Status.Terminal()) {
							continue
						}
						fmt.Fprintf(s.out, "==> %s / %s / %s (%s)\n", ph.Name, t.ProjectName, st.Name, st.Status)
						if _, err := c.StepLogs(cmd.Context(), st.ID, 0, follow, s.out); err != nil {
							return apiError(err)
						}
						printed++
					}
				}
			}
			if printed == 0 {
				fmt.Fprintf(s.err, "run %s has no step logs yet\n", run.ID)
			}
			return nil
		},
	}
	o.flags(cmd.Flags())
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "wait for running steps and print their output as it arrives")
	return cmd
}

// aliasList joins a release's aliases other than its number, "-" for none.
func aliasList(aliases []release.Alias) string {
	var names []string
	for _, a := range aliases {
		if a.Type != release.AliasNumeric {
			names = append(names, a.Alias)
		}
	}
	return orNone(strings.Join(names, ","))
}
