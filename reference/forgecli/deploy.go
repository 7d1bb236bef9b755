package forgecli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

func newDeploy(s streams) *cobra.Command {
	o := &apiOptions{}
	var repo, approval string
	cmd := &cobra.Command{
		Use:   "deploy ENV PROJECT RELEASE",
		Short: "Deploy a release of a project to an environment",
		Long: `Deploy makes RELEASE (an alias, a number or a commit prefix) the active
deployment of PROJECT in ENV. The environment's promotion policy decides:
which roles may deploy, which release triggers and branches it accepts,
and whether an approval is needed (production: 'forge approve' first, by
someone other than the deployer).`,
		Example: "  forge deploy dev auth-service main-42 -r acme/monorepo\n  forge deploy production auth-service v1.2.3 -r acme/monorepo",
		Args:    cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.repoClient(repo)
			if err != nil {
				return err
			}
			r, err := c.GetRelease(cmd.Context(), repo, args[1], args[2])
			if err != nil {
				return apiError(err)
			}
			d, err := c.Deploy(cmd.Context(), endpoints.DeployRequest{ReleaseID: r.ID, Environment: args[0], ApprovalID: approval})
			if err != nil {
				return apiError(err)
			}
			if err := o.print(s.out, d, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "deployed %s release %d to %s (deployment %s, %s)%s\n", d.Project, d.ReleaseNumber, d.Environment, d.ID, d.Status, gitopsCommit(d.GitOpsCommitSHA))
			}); err != nil {
				return err
			}
			return deploymentFailed(d)
		},
	}
	o.flags(cmd.Flags())
	repositoryFlag(cmd, &repo)
	cmd.Flags().StringVar(&approval, "approval", "", "approval ID to use (default: the release's active approval for ENV)")
	return cmd
}

func newRollback(s streams) *cobra.Command {
	o := &apiOptions{}
	var repo, to string
	cmd := &cobra.Command{
		Use:   "rollback ENV PROJECT",
		Short: "Deploy again the release that ran before the current one, or an older one",
		Long: `Rollback is a forward deployment of the release that was active in ENV
before the current one, or with --to of an older release (an alias, a
number or a commit prefix), under the same policy checks as 'forge
deploy', committed with a rollback message.`,
		Example: "  forge rollback production auth-service -r acme/monorepo\n  forge rollback production auth-service --to v1.2.2 -r acme/monorepo",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.repoClient(repo)
			if err != nil {
				return err
			}
			d, err := c.Rollback(cmd.Context(), endpoints.RollbackRequest{Environment: args[0], Repository: repo, Project: args[1], To: to})
			if err != nil {
				return apiError(err)
			}
			if err := o.print(s.out, d, func(tw *tabwriter.Writer) {
				from := 0
				if d.Previous != nil {
					from = d.Previous.ReleaseNumber
				}
				fmt.Fprintf(tw, "rolled %s back in %s from release %d to release %d (deployment %s, %s)%s\n", d.Project, d.Environment, from, d.ReleaseNumber, d.ID, d.Status, gitopsCommit(d.GitOpsCommitSHA))
			}); err != nil {
				return err
			}
			return deploymentFailed(d)
		},
	}
	o.flags(cmd.Flags())
	cmd.Flags().StringVar(&to, "to", "", "an older release to roll back to (default: the one before the current)")
	repositoryFlag(cmd, &repo)
	return cmd
}

// gitopsCommit says which GitOps commit holds a deployment, if any.
func gitopsCommit(sha string) string {
	if sha == "" {
		return ""
	}
	return ": GitOps commit " + sha
}

// deploymentFailed fails the command when the deployment failed, with
// its reason.
func deploymentFailed(d *endpoints.DeploymentResponse) error {
	if d.Status == string(release.DeploymentFailed) {
		return failed("deployment %s failed: %s", d.ID, d.Reason)
	}
	return nil
}

func newApprove(s streams) *cobra.Command {
	o := &apiOptions{}
	var repo, justification string
	cmd := &cobra.Command{
		Use:   "approve RELEASE ENV",
		Short: "Approve a release for an environment that requires approval",
		Long: `Approve lets RELEASE be deployed to ENV until the approval expires (24 h
by default). RELEASE is PROJECT/ID, or owner/name/PROJECT/ID with the
repository in it; ID is an alias, a number or a commit prefix. Only
approvers approve, and the approver cannot be the one who deploys.`,
		Example: "  forge approve auth-service/v1.2.3 production -r acme/monorepo --justification 'CHG-1234 reviewed'",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			parts := strings.Split(args[0], "/")
			var project, id string
			switch len(parts) {
			case 2:
				project, id = parts[0], parts[1]
			case 4:
				repo, project, id = parts[0]+"/"+parts[1], parts[2], parts[3]
			default:
				return &exitError{code: ExitUsage, msg: "RELEASE must be PROJECT/ID or owner/name/PROJECT/ID, got " + args[0]}
			}
			if strings.TrimSpace(justification) == "" {
				return &exitError{code: ExitUsage, msg: "--justification is required: say why this release may go to " + args[1]}
			}
			c, err := o.repoClient(repo)
			if err != nil {
				return err
			}
			r, err := c.GetRelease(cmd.Context(), repo, project, id)
			if err != nil {
				return apiError(err)
			}
			a, err := c.Approve(cmd.Context(), endpoints.ApproveRequest{ReleaseID: r.ID, Environment: args[1], Justification: justification})
			if err != nil {
				return apiError(err)
			}
			return o.print(s.out, a, func(tw *tabwriter.Writer) {
				until := "never"
				if a.ExpiresAt != nil {
					until = a.ExpiresAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "approved %s release %d for %s until %s (approval %s)\n", project, r.Number, args[1], until, a.ID)
			})
		},
	}
	o.flags(cmd.Flags())
	repositoryFlag(cmd, &repo)
	cmd.Flags().StringVar(&justification, "justification", "", "why the release may be deployed (required)")
	return cmd
}
