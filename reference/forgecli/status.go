package forgecli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

// envStatus is what forge status says of one environment.
type envStatus struct {
	Environment string `json:"environment"`
	// Deployment is the active deployment; nil when there is none.
	Deployment *endpoints.DeploymentResponse `json:"deployment"`
	Aliases    []string                      `json:"aliases,omitempty"`
	ApprovedBy string                        `json:"approved_by,omitempty"`
	ApprovedAt *time.Time                    `json:"approved_at,omitempty"`
}

func newStatus(s streams) *cobra.Command {
	o := &apiOptions{}
	var repo string
	cmd := &cobra.Command{
		Use:   "status PROJECT",
		Short: "Show what runs where: a project's active release in every environment",
		Long: `status shows, for each environment, the release of PROJECT that is
active there, its aliases, who deployed it and when, who approved it (where
the environment needs an approval), and the GitOps commit of its
ReleasePointer.`,
		Example: "  forge status hello-api -r acme/monorepo",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.repoClient(repo)
			if err != nil {
				return err
			}
			statuses, err := projectStatus(cmd.Context(), c, repo, args[0])
			if err != nil {
				return apiError(err)
			}
			return o.print(s.out, statuses, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ENVIRONMENT\tRELEASE\tALIASES\tDEPLOYED\tAPPROVED\tGITOPS COMMIT")
				for _, st := range statuses {
					d := st.Deployment
					if d == nil {
						fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\n", st.Environment)
						continue
					}
					approved := "-"
					if st.ApprovedBy != "" {
						approved = st.ApprovedBy + " " + st.ApprovedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s %s\t%s\t%s\n", st.Environment, d.ReleaseNumber, orNone(strings.Join(st.Aliases, ",")),
						d.DeployedBy, d.DeployedAt.Format(time.RFC3339), approved, orNone(short(d.GitOpsCommitSHA)))
				}
			})
		},
	}
	o.flags(cmd.Flags())
	repositoryFlag(cmd, &repo)
	return cmd
}

// projectStatus reads the active deployment of project in every
// environment, with its release's aliases and its approval.
func projectStatus(ctx context.Context, c *httptransport.Client, repo, project string) ([]envStatus, error) {
	envs, err := c.Environments(ctx)
	if err != nil {
		return nil, err
	}
	out := []envStatus{}
	for _, env := range envs.Environments {
		st := envStatus{Environment: env.Name}
		d, err := c.CurrentDeployment(ctx, env.Name, repo, project)
		if fault.Is(err, fault.NotFound) {
			out = append(out, st)
			continue
		}
		if err != nil {
			return nil, err
		}
		st.Deployment = d
		r, err := c.GetRelease(ctx, repo, project, fmt.Sprint(d.ReleaseNumber))
		if err != nil {
			return nil, err
		}
		for _, a := range r.Aliases {
			st.Aliases = append(st.Aliases, a.Alias)
		}
		if d.ApprovalID != nil {
			if a, err := c.GetApproval(ctx, d.ReleaseID, env.Name); err == nil {
				at := a.ApprovedAt
				st.ApprovedBy, st.ApprovedAt = a.Approver, &at
			}
		}
		out = append(out, st)
	}
	return out, nil
}
