// Command forge-images builds the OCI images of the platform's binaries
// without a Docker daemon and pushes them to a registry (reference/images;
// what `make images` runs).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/reference/envdefault"
	"github.com/catalyst-forge/forge/reference/images"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o images.Options
	var registry, tag, binaries string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "forge-images",
		Short: "Build the platform's OCI images and push them to a registry",
		Long: `forge-images cross-compiles forge-api, forge-worker, forge-dispatcher and
forge-cmp for linux (static, -trimpath, no build ID) and pushes one image
each to REGISTRY/<binary>:TAG, without a Docker daemon. Every file of the
images has the time SOURCE_DATE_EPOCH (0 when unset), so the same source
gives the same digests. forge-worker's image is laid on --worker-base,
which must hold git and a POSIX shell; the others are FROM scratch with
the CA certificates and the non-root user 65532.

Registry credentials come from docker's config.json.`,
		Example: `  forge-images --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com/forge --tag v1.2.0 \
    --worker-base cgr.dev/chainguard/git:latest-dev`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if registry == "" {
				return fmt.Errorf("--registry (REGISTRY) names where the images go")
			}
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			o.ModuleDir, o.Version = wd, tag
			if binaries != "" {
				o.Binaries = strings.Split(binaries, ",")
			}
			if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
				sec, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return fmt.Errorf("SOURCE_DATE_EPOCH must be seconds since 1970, got %q", s)
				}
				o.Epoch = time.Unix(sec, 0).UTC()
			} else {
				o.Epoch = time.Unix(0, 0).UTC()
			}
			opts := []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
			o.Remote = opts
			imgs, err := images.Build(cmd.Context(), o)
			if err != nil {
				return err
			}
			var nameOpts []name.Option
			if insecure {
				nameOpts = append(nameOpts, name.Insecure)
			}
			pushed, err := images.Push(cmd.Context(), imgs, registry, tag, nameOpts, opts...)
			if err != nil {
				return err
			}
			for _, b := range images.Binaries {
				if ref, ok := pushed[b]; ok {
					fmt.Fprintf(stdout, "%-17s %s\n", b, ref)
				}
			}
			return nil
		},
	}
	cmd.SetArgs(args)
	cmd.SetOut(stderr)
	cmd.SetErr(stderr)
	cmd.CompletionOptions.DisableDefaultCmd = true
	f := cmd.Flags()
	f.StringVar(&registry, "registry", os.Getenv("REGISTRY"), "where the images go: HOST[/PATH] (env REGISTRY)")
	f.StringVar(&tag, "tag", envdefault.String("VERSION", "dev"), "the images' tag and the binaries' version (env VERSION)")
	f.StringVar(&o.WorkerBase, "worker-base", os.Getenv("WORKER_BASE"), "base image of forge-worker, with git and a POSIX shell (env WORKER_BASE)")
	f.StringVar(&binaries, "binaries", "", "build only these (comma-separated; default all)")
	f.StringVar(&o.CABundle, "ca-bundle", "", "CA certificates to include (default /etc/ssl/certs/ca-certificates.crt)")
	f.StringVar(&o.Arch, "arch", "amd64", "CPU architecture")
	f.BoolVar(&insecure, "insecure", false, "the registry speaks plain HTTP")
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}
