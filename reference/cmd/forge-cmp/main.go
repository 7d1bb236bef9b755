// Command forge-cmp is the Argo CD Config Management Plugin of Catalyst
// Forge: it turns a ReleasePointer back into the Kubernetes resources of
// its release. See 'forge-cmp --help'.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/reference/forgecmp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:   "forge-cmp",
		Short: "The Argo CD Config Management Plugin of Catalyst Forge",
		Long: `forge-cmp runs in Argo CD's repo-server, as the command of a Config
Management Plugin sidecar. Argo CD runs 'forge-cmp generate' in the
directory of an Application's source: a directory of the GitOps
repository holding a ReleasePointer (release.yaml). It prints the
Kubernetes resources of the release the pointer names, read from the
release's OCI image.`,
		SilenceUsage: true, SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage{err} })
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newGenerate(stdout, stderr), newPluginConfig(stdout))
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "forge-cmp:", err)
	var u usage
	if errors.As(err, &u) || strings.HasPrefix(err.Error(), "unknown command") {
		return 2
	}
	return 1
}

// usage marks an error of the command line itself (exit code 2).
type usage struct{ error }

func newGenerate(stdout, stderr io.Writer) *cobra.Command {
	var o forgecmp.Options
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Print the resources of the release the pointer in this directory names",
		Long: `generate reads ./release.yaml strictly (a ReleasePointer whose
environment and project are those of its path, a spec.release that is a
full commit SHA, a sha256 spec.digest), pulls the release image
<registry>/<owner>/<name>/<project> by that digest (or by the commit's
tag, refused unless it holds that same digest), checks that it is a
Release OCI image of that project, commit and number (and, with a public
key, signed by it: without a valid signature nothing is printed), and
prints its resources.yaml on standard output. Logs go to standard error.
Nothing is written to disk: the resources layer is read in memory and
must hold resources.yaml alone (no links, no other paths), within size
limits.

Settings, from Argo CD and the sidecar:
  ARGOCD_APP_SOURCE_PATH             the pointer's directory in the GitOps
                                     repository (set by Argo CD); --source-path
  ARGOCD_ENV_FORGE_RELEASE_REGISTRY  the release registry, HOST[/PATH] (the
                                     Application's plugin env); --registry
  FORGE_CMP_PUBLIC_KEY               a PEM public key file: images must be
                                     signed by it (the sidecar's own env, so
                                     that no Application can turn it off);
                                     --public-key
  FORGE_CMP_DOCKER_CONFIG            a docker config.json with registry
                                     credentials (default: DOCKER_CONFIG's);
                                     --docker-config
  FORGE_CMP_INSECURE_REGISTRIES      hosts spoken to over plain HTTP besides
                                     loopback ones; --insecure-registry

Exit codes: 0 printed; 1 refused or failed (the reason on stderr).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Dir == "" {
				wd, err := os.Getwd()
				if err != nil {
					return err
				}
				o.Dir = wd
			}
			return forgecmp.Generate(cmd.Context(), o, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", "", "the pointer's directory (default: the current one)")
	f.StringVar(&o.SourcePath, "source-path", os.Getenv("ARGOCD_APP_SOURCE_PATH"), "the pointer's directory in the GitOps repository")
	f.StringVar(&o.Registry, "registry", os.Getenv("ARGOCD_ENV_FORGE_RELEASE_REGISTRY"), "the release registry, HOST[/PATH]")
	f.StringVar(&o.PublicKey, "public-key", os.Getenv("FORGE_CMP_PUBLIC_KEY"), "PEM public key images must be signed by")
	f.StringVar(&o.DockerConfig, "docker-config", os.Getenv("FORGE_CMP_DOCKER_CONFIG"), "docker config.json with registry credentials")
	var insecure []string
	if v := os.Getenv("FORGE_CMP_INSECURE_REGISTRIES"); v != "" {
		insecure = strings.Split(v, ",")
	}
	f.StringSliceVar(&o.Insecure, "insecure-registry", insecure, "hosts spoken to over plain HTTP")
	return cmd
}
