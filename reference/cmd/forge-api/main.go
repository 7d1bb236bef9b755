// Command forge-api serves the Catalyst Forge REST API and migrates its
// database. See 'forge-api --help'.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/reference/envdefault"
	"github.com/catalyst-forge/forge/reference/forgeapi"
	"github.com/catalyst-forge/forge/reference/githubflags"
	"github.com/catalyst-forge/forge/reference/objstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:   "forge-api",
		Short: "The Catalyst Forge API server",
		Long: `forge-api serves the platform's REST API (runs, releases, deployments,
approvals, repositories) over a PostgreSQL or SQLite database.

Before the first start, and after every upgrade, apply the migrations:
  forge-api migrate --database postgres://forge@db:5432/forge
The server refuses to start on an out-of-date schema.

With --engine argo every new run becomes an Argo Workflow whose steps run
forge-dispatcher (see docs/argo.md); with --engine none (the default) runs
stay pending for an orchestrator outside the server.

Every flag has an environment variable: --database is FORGE_DATABASE, and
so on (FORGE_ + the flag in upper case with _ for -).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)

	var o forgeapi.Options
	var objects objstore.Options
	var engine string
	var argo forgeapi.ArgoOptions
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API until interrupted",
		Example: `  forge-api serve --database sqlite:///var/lib/forge/forge.db --auth dev --dev-key /var/lib/forge/dev-key.pem
  forge-api serve --database postgres://forge@db/forge --auth oidc \
    --oidc-issuer https://keycloak.example.com/realms/forge --oidc-audience forge-api`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Log = stderr
			o.ObjectsDir, o.S3 = objects.Dir, objects.S3
			var err error
			if o.Engine, err = forgeapi.NewEngine(engine, argo); err != nil {
				return err
			}
			if o.Engine != nil {
				fmt.Fprintf(stderr, "forge-api starts runs with %s\n", o.Engine)
			}
			app, err := forgeapi.New(cmd.Context(), o)
			if err != nil {
				return err
			}
			defer app.Close()
			fmt.Fprintf(stderr, "forge-api listening on %s\n", app.Addr())
			return app.Run(cmd.Context())
		},
	}
	f := serve.Flags()
	f.StringVar(&o.Addr, "addr", envdefault.String("FORGE_ADDR", "127.0.0.1:8080"), "listen address")
	databaseFlag(f, &o.Database)
	f.StringVar(&o.Auth, "auth", envdefault.String("FORGE_AUTH", "oidc"), "token verification: oidc (Keycloak) or dev (a local signing key)")
	f.StringVar(&o.ReportSecretFile, "report-secret-file", envdefault.String("FORGE_REPORT_SECRET_FILE", ""), "file of the secret workers' status reports are keyed with, shared with forge-dispatcher (or set FORGE_REPORT_SECRET)")
	f.StringVar(&o.DevKey, "dev-key", envdefault.String("FORGE_DEV_KEY", ""), "with --auth dev: the signing key file, created if missing")
	f.StringVar(&o.OIDCIssuer, "oidc-issuer", envdefault.String("FORGE_OIDC_ISSUER", ""), "with --auth oidc: the issuer URL")
	f.StringVar(&o.OIDCAudience, "oidc-audience", envdefault.String("FORGE_OIDC_AUDIENCE", ""), "with --auth oidc: the audience tokens must carry")
	f.StringVar(&o.OIDCClientID, "oidc-client-id", envdefault.String("FORGE_OIDC_CLIENT_ID", ""), "with --auth oidc: the client whose roles count (default: the audience)")
	f.StringVar(&o.Policies, "policies", envdefault.String("FORGE_POLICIES", ""), "environment promotion policies (YAML); default: dev, staging and production of the spec")
	f.StringVar(&o.Registry, "registry", envdefault.String("FORGE_REGISTRY", ""), "registry prefix of Release OCI images (default localhost:5000)")
	f.StringVar(&o.NATSURL, "nats", envdefault.String("FORGE_NATS_URL", ""), "publish events to this NATS server (default: log them)")
	f.StringVar(&o.EventBridgeBus, "eventbridge-bus", envdefault.String("FORGE_EVENTBRIDGE_BUS", ""), "publish events to this Amazon EventBridge bus (name or ARN; AWS default credentials) instead of NATS or the log")
	f.BoolVar(&o.ServeNATS, "serve-nats", os.Getenv("FORGE_SERVE_NATS") == "true", "serve the API over --nats too (subjects forge.api.v1.<resource>.<action>, queue group forge-api), for workers started with --report nats://... (env FORGE_SERVE_NATS=true)")
	f.BoolVar(&o.DeploymentJobs, "deployment-jobs", os.Getenv("FORGE_DEPLOYMENT_JOBS") == "true", "commit deployments to GitOps: send deployment jobs over --nats to forge-worker --types deployment (env FORGE_DEPLOYMENT_JOBS=true)")
	// The object store of step logs: the local profile's directory (whose
	// signed links forge-api serves under /v1/objects/), or the workers'
	// bucket.
	objstore.Flags(f, &objects, "step logs")
	f.StringVar(&o.PublicURL, "public-url", envdefault.String("FORGE_PUBLIC_URL", ""), "the URL clients reach this server at, for signed links (default http://ADDR)")
	f.IntVar(&o.LookupsPerMinute, "limit-release-lookups", envdefault.Int("FORGE_LIMIT_RELEASE_LOOKUPS", 0), "release lookups per minute, all callers together (0: the default 1000; negative: no limit)")
	f.IntVar(&o.DeploymentsPerMinute, "limit-deployments", envdefault.Int("FORGE_LIMIT_DEPLOYMENTS", 0), "deployments per minute per environment (0: the default 10; negative: no limit)")
	f.StringVar(&engine, "engine", envdefault.String("FORGE_ENGINE", forgeapi.EngineNone), "how runs are executed: none (they stay pending for an external orchestrator) or argo (an Argo Workflow per run)")
	f.DurationVar(&o.ResumeDeploymentsEvery, "resume-deployments-every", envdefault.Duration("FORGE_RESUME_DEPLOYMENTS_EVERY", time.Minute), "with --deployment-jobs: how often deployments a dead process left pending past the deployment timeout are finished (0: never)")
	githubflags.Flags(f, &o.GitHub)
	f.DurationVar(&o.Retention, "retention", envdefault.Duration("FORGE_RETENTION", running.DefaultRetention), "how long pipeline runs, their tasks, steps and logs are kept; runs a release names are kept with it (0: for ever)")
	f.DurationVar(&o.PruneEvery, "prune-every", envdefault.Duration("FORGE_PRUNE_EVERY", time.Hour), "how often runs past --retention are deleted, in small batches (0: never)")
	f.DurationVar(&o.ReconcileEvery, "reconcile-every", envdefault.Duration("FORGE_RECONCILE_EVERY", time.Minute), "with an engine: how often runs whose workflow ended before them are failed (0: never)")
	f.DurationVar(&o.ReconcileGrace, "reconcile-grace", envdefault.Duration("FORGE_RECONCILE_GRACE", 10*time.Minute), "with an engine: runs younger than this are not reconciled (their workflow may be starting)")
	f.StringVar(&argo.Server, "argo-server", envdefault.String("FORGE_ARGO_SERVER", ""), "with --engine argo: the Argo Server's URL, e.g. https://argo-server.argo:2746")
	f.StringVar(&argo.Namespace, "argo-namespace", envdefault.String("FORGE_ARGO_NAMESPACE", ""), "with --engine argo: the namespace workflows are created in")
	f.StringVar(&argo.TokenFile, "argo-token-file", envdefault.String("FORGE_ARGO_TOKEN_FILE", ""), "with --engine argo: file holding the Argo Server's bearer token, read at start (empty: send none)")
	f.StringVar(&argo.DispatcherImage, "dispatcher-image", envdefault.String("FORGE_DISPATCHER_IMAGE", ""), "with --engine argo: the forge-dispatcher image the workflow steps run")
	f.StringVar(&argo.ServiceAccount, "argo-service-account", envdefault.String("FORGE_ARGO_SERVICE_ACCOUNT", ""), "with --engine argo: service account of the workflow's pods (empty: the namespace's default)")
	f.StringVar(&argo.DispatcherSecret, "dispatcher-secret", envdefault.String("FORGE_DISPATCHER_SECRET", ""), "with --engine argo: Kubernetes Secret whose keys become the dispatcher's environment (FORGE_DATABASE, FORGE_NATS_URL, FORGE_REPORT_SECRET and the object store's FORGE_S3_* or FORGE_OBJECTS_DIR)")
	f.StringVar(&argo.WorkflowTemplate, "argo-workflow-template", envdefault.String("FORGE_ARGO_WORKFLOW_TEMPLATE", ""), "with --engine argo: create each run's workflow from this WorkflowTemplate in --argo-namespace (see forge-api workflow-template) instead of inline; the dispatcher's image, Secret and service account are then the template's")

	var dsn string
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations (what the Kubernetes migration Job runs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return forgeapi.Migrate(cmd.Context(), dsn, stdout)
		},
	}
	databaseFlag(migrate.Flags(), &dsn)

	policies := &cobra.Command{
		Use:   "policies",
		Short: "Print the default environment policies as a file for --policies",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b, err := deploying.FormatPolicies(release.DefaultEnvironments(), release.DefaultApprovalTTL)
			if err != nil {
				return err
			}
			_, err = stdout.Write(b)
			return err
		},
	}
	var tmpl forgeapi.ArgoOptions
	workflowTemplate := &cobra.Command{
		Use:   "workflow-template NAME",
		Short: "Print the Argo WorkflowTemplate that serve --argo-workflow-template NAME creates each run's workflow from",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			b, err := forgeapi.WorkflowTemplate(args[0], tmpl)
			if err != nil {
				return err
			}
			_, err = stdout.Write(b)
			return err
		},
	}
	tf := workflowTemplate.Flags()
	tf.StringVar(&tmpl.Namespace, "argo-namespace", "", "namespace of the template and of the workflows")
	tf.StringVar(&tmpl.DispatcherImage, "dispatcher-image", "", "the forge-dispatcher image the workflow steps run")
	tf.StringVar(&tmpl.DispatcherSecret, "dispatcher-secret", "", "Kubernetes Secret whose keys become the dispatcher's environment (FORGE_DATABASE, FORGE_NATS_URL, FORGE_REPORT_SECRET and the object store's FORGE_S3_* or FORGE_OBJECTS_DIR)")
	tf.StringVar(&tmpl.ServiceAccount, "argo-service-account", "", "service account of the workflow's pods (empty: the namespace's default)")
	root.AddCommand(serve, migrate, policies, workflowTemplate)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

func databaseFlag(f *pflag.FlagSet, into *string) {
	f.StringVar(into, "database", envdefault.String("FORGE_DATABASE", ""), "database: sqlite:///path/forge.db or postgres://user@host:5432/db")
}
