package forgecli

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/application/working"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/reference/envdefault"
	"github.com/catalyst-forge/forge/reference/forgedev"
	"github.com/catalyst-forge/forge/reference/secretflags"
)

func newDev(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Tools for running the platform on one machine",
	}
	cmd.AddCommand(newDevToken(s), newDevRun(s), newDevUp(s))
	return cmd
}

// defaultDevKey is where the local profile keeps its development signing key.
func defaultDevKey() string {
	if v := os.Getenv("FORGE_DEV_KEY"); v != "" {
		return v
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "forge", "dev-key.pem")
}

// defaultDevData is where 'forge dev up' keeps its state: under
// $XDG_DATA_HOME (default ~/.local/share).
func defaultDevData() string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(".", ".forge-dev")
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "forge", "dev")
}

func newDevUp(s streams) *cobra.Command {
	o := forgedev.UpOptions{}
	var verbose bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the whole platform on this machine until interrupted",
		Long: `up runs the platform in one process on embedded defaults: the REST API
trusting the development issuer, SQLite, an embedded NATS JetStream server,
the filesystem object store, the git cache, the local workflow engine and
workers. Point the CLI at it with --server http://ADDR (the default) and a
token from 'forge dev token'.

Workers fetch a run's repository from --remote, a template in which
{repository} is owner/name and {owner} and {name} its parts, for example
file:///home/me/src/{name} for repositories on this machine.

State lives in --data: runs left in progress when up stops are resumed the
next time it starts.

Steps read the secrets they declare from this process's environment
(variables starting with FORGE_SECRET_, or as --secret-env-* say) and from
files under --secret-file-root; never from --data or the dev key.`,
		Example: `  forge dev up --remote 'file:///home/me/src/{name}'
  export FORGE_TOKEN=$(forge dev token --role operator)
  forge repo register acme/monorepo
  forge run create --repository acme/monorepo --commit $(git -C ~/src/monorepo rev-parse HEAD)
  forge run logs RUN --follow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Progress = s.out
			if verbose {
				o.Log = s.err
			}
			if err := forgedev.Up(cmd.Context(), o); err != nil {
				return failed("%v", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Data, "data", envdefault.String("FORGE_DEV_DATA", defaultDevData()), "keep the database, queue, logs and cache here (env FORGE_DEV_DATA)")
	cmd.Flags().StringVar(&o.Addr, "addr", envdefault.String("FORGE_ADDR", "127.0.0.1:8080"), "API listen address (env FORGE_ADDR)")
	cmd.Flags().StringVar(&o.DevKey, "dev-key", defaultDevKey(), "development signing key the API trusts (env FORGE_DEV_KEY); created if missing")
	cmd.Flags().StringVar(&o.Remote, "remote", envdefault.String("FORGE_REMOTE", working.DefaultRemote), "where workers fetch a repository from (env FORGE_REMOTE)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log every API request (JSON, to stderr)")
	cmd.Flags().StringVar(&o.Registry, "registry", envdefault.String("FORGE_REGISTRY", ""), "HOST:PORT of the registry artifacts go to (env FORGE_REGISTRY; default: one served by this process)")
	cmd.Flags().StringVar(&o.GitOps, "gitops", envdefault.String("FORGE_GITOPS", ""), "git URL of the GitOps repository deployments are committed to (env FORGE_GITOPS; default: DATA/gitops.git)")
	secretflags.Flags(cmd.Flags(), &o.Secrets)
	return cmd
}

func newDevToken(s streams) *cobra.Command {
	var keyFile, subject string
	var roles []string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a token signed by the development issuer",
		Long: `token signs a bearer token with the development key that
'forge-api serve --auth dev --dev-key FILE' trusts (the key is created if
FILE does not exist). Use it for a server on this machine:

  export FORGE_TOKEN=$(forge dev token --role operator --subject alice)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rs []identity.Role
			for _, r := range roles {
				role := identity.Role(r)
				if !role.Valid() {
					return &exitError{code: ExitUsage, msg: fmt.Sprintf("unknown role %q (use developer, approver, operator or service-account)", r)}
				}
				rs = append(rs, role)
			}
			if ttl <= 0 || ttl > 30*24*time.Hour {
				return &exitError{code: ExitUsage, msg: "--ttl must be between 1s and 720h"}
			}
			issuer, err := oidcauth.LoadOrCreateDevKey(keyFile)
			if err != nil {
				return failed("%v", err)
			}
			tok, err := issuer.Token(subject, rs, ttl)
			if err != nil {
				return failed("%v", err)
			}
			fmt.Fprintln(s.out, tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "dev-key", defaultDevKey(), "development signing key (env FORGE_DEV_KEY); created if missing")
	cmd.Flags().StringSliceVar(&roles, "role", []string{"developer"}, "platform role(s): developer, approver, operator, service-account")
	cmd.Flags().StringVar(&subject, "subject", envdefault.String("USER", "developer"), "who the token names")
	cmd.Flags().DurationVar(&ttl, "ttl", 12*time.Hour, "how long the token is valid")
	return cmd
}

func newDevRun(s streams) *cobra.Command {
	var opts forgedev.Options
	var output string
	cmd := &cobra.Command{
		Use:   "run [DIR]",
		Short: "Run the pipeline of a local repository on this machine",
		Long: `run pushes one commit of the repository in DIR (default: the current
directory) through a real pipeline on embedded defaults: SQLite, an
embedded NATS JetStream server, the filesystem object store, the git cache,
and in-process workers running the steps. It prints each phase group and
step as it starts and ends, and the last log lines of a failed step.

Without --ref it runs DIR as it is: HEAD of a clean git work tree, or else a
snapshot of the files (uncommitted changes, a subdirectory, no git at all).
--output json prints the finished run as GET /v1/runs/{id} returns it.
The exit code is 0 only when the run succeeded.

Steps read the secrets they declare from this process's environment
(variables starting with FORGE_SECRET_, or as --secret-env-* say) and from
files under --secret-file-root; secret values are masked in step logs.`,
		Example: "  forge dev run reference/examples/monorepo\n  forge dev run . --ref main --output json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			opts.Dir = dirArg(args)
			if output == "text" {
				opts.Progress = s.out
			}
			out, err := forgedev.Run(cmd.Context(), opts)
			if err != nil {
				return failed("%v", err)
			}
			run := out.Run
			if output == "json" {
				if err := writeJSON(s.out, run); err != nil {
					return err
				}
			} else {
				took := ""
				if run.CompletedAt != nil {
					took = " in " + run.CompletedAt.Sub(run.StartedAt).Round(time.Millisecond).String()
				}
				fmt.Fprintf(s.out, "run %s %s%s\n", run.ID, run.Status, took)
				if run.Reason != "" {
					fmt.Fprintf(s.out, "reason: %s\n", run.Reason)
				}
				for step, lines := range out.FailedLogs {
					fmt.Fprintf(s.out, "\nlast lines of %s:\n%s\n", step, lines)
				}
				printArtifacts(s.out, out, opts.Data != "")
			}
			if run.Status != pipeline.StatusSuccess {
				return silentFailure
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Ref, "ref", "", "commit, branch or tag to run (default: the directory as it is)")
	cmd.Flags().StringVar(&opts.Data, "data", "", "keep the database, queue, logs and cache here (default: a temporary directory)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&opts.Registry, "registry", "", "HOST:PORT of the registry artifacts go to (default: one served for the run)")
	secretflags.Flags(cmd.Flags(), &opts.Secrets)
	return cmd
}

// printArtifacts says where each artifact and release of a dev run went.
func printArtifacts(w io.Writer, out *forgedev.Outcome, kept bool) {
	if len(out.Artifacts) == 0 && len(out.Releases) == 0 {
		return
	}
	fmt.Fprintf(w, "\nartifacts (registry %s):\n", out.Registry)
	for _, a := range out.Artifacts {
		fmt.Fprintf(w, "  %s/%s (%s)", a.Project, a.Name, a.Type)
		if f := a.Failure(); f != "" {
			fmt.Fprintf(w, ": %s\n", f)
			continue
		}
		fmt.Fprintln(w)
		for _, name := range slices.Sorted(maps.Keys(a.Publishers)) {
			p := a.Publishers[name]
			fmt.Fprintf(w, "    %s: %v (%s)\n", name, p.Fields["uri"], p.Status)
		}
		if a.Tracking != nil {
			fmt.Fprintf(w, "    tracking: %s@%s\n", a.Tracking.URI, a.Tracking.Digest)
		}
	}
	if len(out.Releases) > 0 {
		fmt.Fprintln(w, "\nreleases:")
	}
	for _, r := range out.Releases {
		fmt.Fprintf(w, "  %s release %d (aliases %s)\n", r.Project, r.Number, aliasList(r.Aliases))
		if r.OCIDigest == "" {
			fmt.Fprintf(w, "    image: %s (not pushed)\n", r.OCIURI)
		} else {
			fmt.Fprintf(w, "    image: %s@%s\n", r.OCIURI, r.OCIDigest)
		}
	}
	if len(out.Deployments) > 0 {
		fmt.Fprintf(w, "\ndeployments (GitOps repository %s):\n", out.GitOps)
	}
	for _, d := range out.Deployments {
		fmt.Fprintf(w, "  %s release %d -> %s: %s", d.Project, d.Release, d.Environment, d.Status)
		if d.Commit != "" {
			fmt.Fprintf(w, ", GitOps commit %s", d.Commit)
		}
		if d.Reason != "" {
			fmt.Fprintf(w, ": %s", d.Reason)
		}
		fmt.Fprintf(w, "\n    pointer: %s\n", d.Pointer)
		switch {
		case d.GenerateError != "":
			fmt.Fprintf(w, "    forge-cmp generate failed: %s\n", d.GenerateError)
		case d.Status == "active" && d.Generated == "":
			fmt.Fprintln(w, "    forge-cmp generate prints nothing: the release has no resources")
		case d.Generated != "":
			fmt.Fprintln(w, "    forge-cmp generate (the Argo CD plugin, in a clone of the GitOps repository) prints:")
			for _, line := range strings.Split(strings.TrimRight(d.Generated, "\n"), "\n") {
				fmt.Fprintf(w, "      %s\n", line)
			}
		}
	}
	if !kept {
		fmt.Fprintln(w, "(the registry, the GitOps repository and the signing key lived for this run only: pass --data DIR and --registry HOST:PORT to keep them)")
		return
	}
	fmt.Fprintf(w, "verify a tracking or release image: cosign verify --key %s --insecure-ignore-tlog=true --allow-http-registry IMAGE@DIGEST\n", out.PublicKey)
}
