package forgecli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

func newRepo(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Register repositories with the platform and list them",
		Long:  `Runs are accepted only for registered repositories. Operators register them.`,
	}
	cmd.AddCommand(newRepoRegister(s), newRepoList(s))
	return cmd
}

func newRepoRegister(s streams) *cobra.Command {
	o := &apiOptions{}
	var limits repository.Limits
	cmd := &cobra.Command{
		Use:     "register OWNER/NAME",
		Short:   "Register a repository (returns the registration if it exists)",
		Example: "  forge repo register acme/monorepo --runs-per-minute 50",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			req := endpoints.RegisterRepositoryRequest{Repository: args[0]}
			if limits != (repository.Limits{}) {
				req.Limits = &limits
			}
			r, created, err := c.RegisterRepository(cmd.Context(), req)
			if err != nil {
				return apiError(err)
			}
			return o.print(s.out, r, func(tw *tabwriter.Writer) {
				state := "registered"
				if !created {
					state = "already registered"
				}
				fmt.Fprintf(tw, "%s %s (max %d concurrent runs, %d runs per minute)\n", r.Name, state, r.Limits.MaxConcurrentRuns, r.Limits.RunsPerMinute)
			})
		},
	}
	o.flags(cmd.Flags())
	cmd.Flags().IntVar(&limits.MaxConcurrentRuns, "max-concurrent-runs", 0, "runs in progress at once (default 1000)")
	cmd.Flags().IntVar(&limits.RunsPerMinute, "runs-per-minute", 0, "runs created per minute (default 100)")
	return cmd
}

func newRepoList(s streams) *cobra.Command {
	o := &apiOptions{}
	var page ports.Page
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List registered repositories",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			list, err := c.ListRepositories(cmd.Context(), page)
			if err != nil {
				return apiError(err)
			}
			return o.print(s.out, list, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "REPOSITORY\tMAX RUNS\tRUNS/MIN\tREGISTERED BY")
				for _, r := range list.Repositories {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", r.Name, r.Limits.MaxConcurrentRuns, r.Limits.RunsPerMinute, r.CreatedBy)
				}
				fmt.Fprintf(tw, "(%d of %d)\n", len(list.Repositories), list.Total)
			})
		},
	}
	o.flags(cmd.Flags())
	pageFlags(cmd, &page)
	return cmd
}
