package forgecli

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/adapters/onprem/gitcache"
	"github.com/catalyst-forge/forge/adapters/onprem/stepexec"
	"github.com/catalyst-forge/forge/application/cueconfig"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/working"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/publishflags"
	"github.com/catalyst-forge/forge/reference/secretflags"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// releaseCreateOptions are the flags of forge release create.
type releaseCreateOptions struct {
	api            apiOptions
	repo, rev, tag string
	publish        publishflags.Options
	secrets        secretflags.Options
}

func newReleaseCreate(s streams) *cobra.Command {
	o := &releaseCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create [PROJECT_DIR]",
		Short: "Release a commit of a project by hand, without a pipeline run",
		Long: `create makes a manual release of the project in PROJECT_DIR (default: the
current directory) at a commit of its git repository (--commit, default
HEAD), the way a pipeline's release stage does, on this machine: the
commit is checked out on its own (uncommitted changes play no part), each
artifact is built by its producer, published by its publishers and
tracked (--tracking-registry), the resources are rendered with the
artifacts' outputs, the release is registered with the API (its trigger
is manual, or the tag given with --tag) and its signed Release OCI image
pushed where the API says.

Registering a release needs a service-account token (FORGE_TOKEN), as in
CI. Creating the release of a commit again does nothing: the release that
exists is printed. Publishers and credentials are those of the repository's
configuration, resolved with the --secret-* allow-lists as workers do.`,
		Example: `  forge release create services/api -r acme/mono --tracking-registry registry.example.com/tracking
  forge release create services/api -r acme/mono --commit v1.4.0 --tag v1.4.0 --signing-key cosign.key`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), s, dirArg(args))
		},
	}
	o.api.flags(cmd.Flags())
	repositoryFlag(cmd, &o.repo)
	cmd.Flags().StringVar(&o.rev, "commit", "HEAD", "the commit to release: a SHA, tag or branch of the checkout")
	cmd.Flags().StringVar(&o.tag, "tag", "", "the git tag this release is of (its trigger; aliases follow the tagging strategy)")
	publishflags.Flags(cmd.Flags(), &o.publish)
	secretflags.Flags(cmd.Flags(), &o.secrets)
	return cmd
}

// createdRelease is what forge release create prints.
type createdRelease struct {
	orchestrating.ReleaseResult
	Artifacts []artifact.Output `json:"artifacts"`
	// Existed says the release was made before; nothing was built.
	Existed bool `json:"existed"`
}

func (o *releaseCreateOptions) run(ctx context.Context, s streams, dir string) error {
	co, rel, err := findProject(dir)
	if err != nil {
		return err
	}
	c, err := o.api.repoClient(o.repo)
	if err != nil {
		return err
	}
	if o.publish.Tracking == "" {
		return &exitError{code: ExitUsage, msg: "where do tracking images go? pass --tracking-registry HOST[/PATH] or set FORGE_TRACKING_REGISTRY"}
	}
	sha, err := revParse(ctx, co.root, o.rev)
	if err != nil {
		return err
	}

	// The commit, checked out on its own, as a worker would.
	cacheDir, err := os.MkdirTemp("", "forge-release-")
	if err != nil {
		return failed("%v", err)
	}
	defer os.RemoveAll(cacheDir)
	cache, err := gitcache.New(cacheDir)
	if err != nil {
		return failed("%v", err)
	}
	fmt.Fprintf(s.err, "checking out %s of %s\n", short(sha), co.display)
	ws, err := cache.Checkout(ctx, ports.CheckoutRequest{Repository: o.repo, Remote: co.root, Commit: sha, JobID: "release-create"})
	if err != nil {
		return failed("checking out %s: %v", sha, err)
	}
	defer ws.Remove(context.WithoutCancel(ctx))
	fsys := os.DirFS(ws.Dir)
	loader := cueconfig.NewLoader()
	rc, ps := loader.LoadRepo(fsys)
	if ps.HasErrors() {
		return problems(s, co, ps)
	}
	p, ps := loader.LoadProject(fsys, rel, rc)
	if ps.HasErrors() {
		return problems(s, co, ps)
	}

	if got, err := c.GetRelease(ctx, o.repo, p.Name, sha); err == nil && got.OCIDigest != "" {
		fmt.Fprintf(s.err, "%s has release %d of %s already: nothing to build\n", p.Name, got.Number, short(sha))
		out := createdRelease{Existed: true, Artifacts: []artifact.Output{}, ReleaseResult: orchestrating.ReleaseResult{
			Project: got.Project, ReleaseID: got.ID, Number: got.Number, Reference: got.OCIURI, Digest: got.OCIDigest}}
		for _, a := range got.Aliases {
			out.Aliases = append(out.Aliases, a.Alias)
		}
		return o.print(s, out)
	} else if err != nil && !fault.Is(err, fault.NotFound) {
		return apiError(err)
	}

	secretOpts, deny := o.secrets, []string{o.api.tokenFile, o.publish.SigningKey}
	if o.publish.SigningKeyRef != "" {
		if secretOpts, deny, err = publishflags.OwnSigningKey(ctx, &o.publish, o.secrets, deny); err != nil {
			return failed("%v", err)
		}
	}
	secrets, err := secretflags.Registry(ctx, secretOpts, deny...)
	if err != nil {
		return failed("%v", err)
	}
	artifacts, err := publishflags.Service(o.publish, stepexec.New(), secrets)
	if err != nil {
		return failed("%v", err)
	}
	releaser, err := publishflags.Releaser(o.publish, endpoints.Releases{Client: c})
	if err != nil {
		return failed("%v", err)
	}

	outputs := map[string]artifact.Output{}
	var built []artifact.Output
	var failures []string
	for _, name := range slices.Sorted(maps.Keys(p.Artifacts)) {
		fmt.Fprintf(s.err, "building artifact %s of %s\n", name, p.Name)
		out, err := artifacts.Build(ctx, working.ArtifactRequest(&orchestrating.ArtifactJob{Repository: o.repo, CommitSHA: sha,
			Project: p.Name, Path: rel, Name: name, Artifact: p.Artifacts[name], Publishers: rc.Repo.Publishers}, ws, s.err))
		if err != nil {
			return failed("building artifact %s: %v", name, err)
		}
		if f := out.Failure(); f != "" {
			failures = append(failures, f)
		}
		outputs[name] = out
		built = append(built, out)
	}
	if len(failures) > 0 {
		return failed("no release: %s", strings.Join(failures, "; "))
	}
	fmt.Fprintf(s.err, "releasing %s\n", p.Name)
	res, err := releaser.Make(ctx, &orchestrating.ReleaseJob{Repository: o.repo, CommitSHA: sha, Tag: o.tag,
		Project: discovery.Project{Name: p.Name, Path: p.Path, File: p.File, Artifacts: p.Artifacts, ArtifactRefs: p.ArtifactRefs, Resources: p.Deployment.Resources},
		Commit:  discovery.Commit{SHA: sha, Time: ws.CommitTime, Author: ws.Author, Message: ws.Message}, Artifacts: outputs})
	if err != nil {
		return apiError(err)
	}
	if built == nil {
		built = []artifact.Output{}
	}
	return o.print(s, createdRelease{ReleaseResult: *res, Artifacts: built})
}

func (o *releaseCreateOptions) print(s streams, r createdRelease) error {
	return o.api.print(s.out, r, func(tw *tabwriter.Writer) {
		state := "created"
		if r.Existed || !r.Created {
			state = "exists"
		}
		fmt.Fprintf(tw, "release %d of %s %s\n", r.Number, r.Project, state)
		fmt.Fprintf(tw, "Aliases\t%s\n", orNone(strings.Join(r.Aliases, ", ")))
		fmt.Fprintf(tw, "Image\t%s@%s\n", r.Reference, r.Digest)
		for _, a := range r.Artifacts {
			if a.Tracking != nil {
				fmt.Fprintf(tw, "Artifact\t%s (%s) tracked at %s@%s\n", a.Name, a.Type, a.Tracking.URI, a.Tracking.Digest)
			}
		}
	})
}

// revParse resolves rev to a full commit SHA in the repository at dir.
func revParse(ctx context.Context, dir, rev string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--verify", "-q", rev+"^{commit}")
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.Output()
	if err != nil {
		return "", failed("--commit %s: not a commit of the git repository at %s", rev, dir)
	}
	return strings.TrimSpace(string(out)), nil
}
