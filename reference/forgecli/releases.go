package forgecli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

func newRelease(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Show, list, create, inspect and retry releases",
		Long: `A release is an immutable snapshot of a project at a commit. Name one by
an alias (v1.2.3, main-42), its number (42) or a commit prefix of at least
7 characters.`,
	}
	cmd.AddCommand(newReleaseGet(s), newReleaseList(s), newReleaseCreate(s), newReleaseInspect(s), newReleaseRetry(s))
	return cmd
}

func newReleaseGet(s streams) *cobra.Command {
	o := &apiOptions{}
	var repo string
	cmd := &cobra.Command{
		Use:     "get PROJECT RELEASE",
		Short:   "Show one release of a project",
		Example: "  forge release get auth-service v1.2.3 --repository acme/monorepo\n  forge release get auth-service 42 -r acme/monorepo -o json",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.repoClient(repo)
			if err != nil {
				return err
			}
			r, err := c.GetRelease(cmd.Context(), repo, args[0], args[1])
			if err != nil {
				return apiError(err)
			}
			return o.print(s.out, r, func(tw *tabwriter.Writer) { printRelease(tw, r) })
		},
	}
	o.flags(cmd.Flags())
	repositoryFlag(cmd, &repo)
	return cmd
}

func printRelease(tw *tabwriter.Writer, r *endpoints.ReleaseResponse) {
	fmt.Fprintf(tw, "Release\t%s %d (%s)\n", r.Project, r.Number, r.ID)
	fmt.Fprintf(tw, "Canonical\t%s\n", r.CanonicalID)
	fmt.Fprintf(tw, "OCI\t%s\n", r.OCIURI)
	fmt.Fprintf(tw, "Created\t%s by %s\n", r.CreatedAt.Format(time.RFC3339), r.CreatedBy)
	if t := r.Trigger; t != nil {
		fmt.Fprintf(tw, "Trigger\t%s %s%s\n", t.Type, t.Branch, t.Tag)
	}
	var aliases []string
	for _, a := range r.Aliases {
		aliases = append(aliases, a.Alias)
	}
	fmt.Fprintf(tw, "Aliases\t%s\n", strings.Join(aliases, ", "))
	for _, a := range r.Artifacts {
		fmt.Fprintf(tw, "Artifact\t%s (%s) %s\n", a.Name, a.Type, a.PrimaryPublishedURI)
	}
}

func newReleaseList(s streams) *cobra.Command {
	o := &apiOptions{}
	var repo string
	var page ports.Page
	cmd := &cobra.Command{
		Use:   "list PROJECT",
		Short: "List the releases of a project, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.repoClient(repo)
			if err != nil {
				return err
			}
			list, err := c.ListReleases(cmd.Context(), repo, args[0], page)
			if err != nil {
				return apiError(err)
			}
			return o.print(s.out, list, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "NUMBER\tCOMMIT\tALIASES\tCREATED\tID")
				for _, r := range list.Releases {
					var aliases []string
					for _, a := range r.Aliases {
						if a.Type != "numeric" {
							aliases = append(aliases, a.Alias)
						}
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.Number, short(r.CommitSHA), orNone(strings.Join(aliases, ",")), r.CreatedAt.Format(time.RFC3339), r.ID)
				}
				fmt.Fprintf(tw, "(%d of %d)\n", len(list.Releases), list.Total)
			})
		},
	}
	o.flags(cmd.Flags())
	repositoryFlag(cmd, &repo)
	pageFlags(cmd, &page)
	return cmd
}
