// Command forge-worker runs discovery and CI jobs of Catalyst Forge
// pipelines. See 'forge-worker --help'.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/application/working"
	"github.com/catalyst-forge/forge/reference/envdefault"
	"github.com/catalyst-forge/forge/reference/forgeworker"
	"github.com/catalyst-forge/forge/reference/internal/discoverchild"
	"github.com/catalyst-forge/forge/reference/objstore"
	"github.com/catalyst-forge/forge/reference/publishflags"
	"github.com/catalyst-forge/forge/reference/secretflags"
)

func main() {
	// Discovery evaluates the repository's CUE in a child: this binary,
	// started again with a hidden argument (reference/internal/discoverchild).
	discoverchild.Serve()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	var o forgeworker.Options
	var types string
	cmd := &cobra.Command{
		Use:   "forge-worker",
		Short: "Run discovery, CI, artifact and release jobs of Catalyst Forge pipelines",
		Long: `forge-worker pulls jobs from NATS JetStream, checks each commit out
through its git cache, runs the steps (earthly or script), uploads their
logs to the object store while they run and reports statuses to the API
with a service-account token: over HTTP to --server, or with --report
nats://... over NATS to a forge-api started with --serve-nats (no route to
the API's ingress needed).

Steps get the secrets they declare from the env provider (variables named
by --secret-env-allow or starting with a --secret-env-prefix, never the
worker's own credentials) and the file provider (files under a
--secret-file-root, never the cache or the token file).

With --types artifact it also builds the artifacts of release-triggered
projects, publishes them (docker images to their registries, with
credentials from the publisher's secret reference or --docker-config) and
pushes a tracking image per artifact to --tracking-registry, signed with
--signing-key.

With --types release it makes the release of each release-triggered
project whose artifacts succeeded: it renders the project's resources with
their outputs, registers the release with the API, pushes the Release OCI
image to the oci_uri the API names (forge-api --registry), signs it with
--signing-key and records its digest.

With --types deployment it commits each deployment's ReleasePointer to
the GitOps repository --gitops (branch --gitops-branch), with the HTTPS
token or SSH key that --gitops-credential-ref names (a secret reference
in JSON, kept out of the builds' reach).

On SIGTERM it stops taking jobs, gives running ones --shutdown-grace to
finish, and hands the rest back to the queue for another worker.

Every flag has an environment variable: --nats is FORGE_NATS_URL, the
others FORGE_ + the flag in upper case with _ for - (FORGE_CACHE_DIR...).`,
		Example: `  forge-worker --types discovery,ci --nats nats://nats:4222 --server http://forge-api:8080 \
    --token-file /var/run/secrets/forge/token --cache-dir /var/cache/forge \
    --s3-bucket forge-artifacts --remote 'https://github.com/{repository}.git'`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Types = strings.Split(types, ",")
			o.Log = stderr
			o.Token = os.Getenv("FORGE_TOKEN")
			return forgeworker.Run(cmd.Context(), o)
		},
	}
	cmd.SetArgs(args)
	cmd.SetOut(stderr)
	cmd.SetErr(stderr)
	cmd.CompletionOptions.DisableDefaultCmd = true
	f := cmd.Flags()
	f.StringVar(&types, "types", envdefault.String("FORGE_TYPES", "discovery,ci"), "job types to take: discovery, ci, artifact, release, deployment (comma-separated)")
	f.IntVar(&o.Concurrency, "concurrency", envdefault.Int("FORGE_CONCURRENCY", forgeworker.DefaultConcurrency), "jobs run at once")
	f.StringVar(&o.NATSURL, "nats", envdefault.String("FORGE_NATS_URL", ""), "NATS JetStream server URL")
	f.StringVar(&o.Server, "server", envdefault.String("FORGE_SERVER", ""), "API the worker reports statuses to")
	f.StringVar(&o.Report, "report", envdefault.String("FORGE_REPORT", ""), "report statuses and releases here instead of --server: http(s)://API or nats://SERVER where forge-api --serve-nats answers")
	f.StringVar(&o.TokenFile, "token-file", envdefault.String("FORGE_TOKEN_FILE", ""), "file holding the service-account token, read again when it changes (or set FORGE_TOKEN)")
	f.StringVar(&o.CacheDir, "cache-dir", envdefault.String("FORGE_CACHE_DIR", ""), "git cache and workspaces")
	f.Int64Var(&o.CacheBudget, "cache-budget", int64(envdefault.Int("FORGE_CACHE_BUDGET", 0)), "largest size of the git cache in bytes (0: the cache's default)")
	f.StringVar(&o.Remote, "remote", envdefault.String("FORGE_REMOTE", working.DefaultRemote), "where a repository is fetched from: {repository}, {owner} and {name} are filled in")
	objstore.Flags(f, &o.Objects, "logs")
	secretflags.Flags(f, &o.Secrets)
	publishflags.Flags(f, &o.Publish)
	f.StringVar(&o.GitOps.URL, "gitops", envdefault.String("FORGE_GITOPS", ""), "GitOps repository deployment jobs commit to (needed with --types deployment)")
	f.StringVar(&o.GitOps.Branch, "gitops-branch", envdefault.String("FORGE_GITOPS_BRANCH", "main"), "branch of the GitOps repository")
	f.StringVar(&o.GitOps.CredentialRef, "gitops-credential-ref", envdefault.String("FORGE_GITOPS_CREDENTIAL_REF", ""), `the GitOps repository's HTTPS token or SSH key, as a secret reference in JSON, e.g. {"provider":"kubernetes","namespace":"forge","secretName":"gitops","key":"token"}`)
	f.DurationVar(&o.ShutdownGrace, "shutdown-grace", envdefault.Duration("FORGE_SHUTDOWN_GRACE", forgeworker.DefaultShutdownGrace), "on SIGTERM, how long running jobs get before they go back to the queue")
	discoverchild.Flags(f, &o.Discovery)
	f.StringVar(&o.MetricsAddr, "metrics-addr", envdefault.String("FORGE_METRICS_ADDR", ""), "serve /metrics (Prometheus), /healthz and /readyz here, e.g. :9090 (empty: off)")
	f.DurationVar(&o.AckWait, "ack-wait", envdefault.Duration("FORGE_ACK_WAIT", 0), "how soon a dead worker's job is offered again (0: the queue's default, 1m)")
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}
