package forgecli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/adapters/onprem/ociregistry"
	"github.com/catalyst-forge/forge/application/packaging"
	"github.com/catalyst-forge/forge/application/rendering"
	"github.com/catalyst-forge/forge/reference/envdefault"
)

func newReleaseInspect(s streams) *cobra.Command {
	o := &apiOptions{}
	var repo, dockerConfig string
	var insecure []string
	var resources bool
	cmd := &cobra.Command{
		Use:   "inspect REFERENCE | inspect PROJECT RELEASE",
		Short: "Read a Release OCI image and print its metadata and resources",
		Long: `inspect reads a Release OCI image from its registry, checks that it is
one (artifact type, the metadata and resources layers, a resources layer
holding resources.yaml alone) and prints what it records: the release
number, aliases, trigger, commit, the tracking image of each artifact and
a summary of its resources.

Name the image by its full reference (REGISTRY/REPOSITORY/PROJECT:SHA or
...@sha256:...), or by project and release (an alias, a number or a
commit prefix) with --repository: the API says where that release's image
is, and it is read by its recorded digest.

--resources prints the resources instead: the YAML stream as the image
holds it, or with --output json a JSON array.`,
		Example: `  forge release inspect registry.example.com/acme/mono/api:0123456789abcdef0123456789abcdef01234567
  forge release inspect api main-42 -r acme/mono
  forge release inspect api 42 -r acme/mono --resources | kubectl diff -f -`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(o.output, "table", "json"); err != nil {
				return err
			}
			ctx := cmd.Context()
			ref := args[0]
			if len(args) == 2 {
				c, err := o.repoClient(repo)
				if err != nil {
					return err
				}
				r, err := c.GetRelease(ctx, repo, args[0], args[1])
				if err != nil {
					return apiError(err)
				}
				if r.OCIDigest == "" {
					msg := fmt.Sprintf("release %d of %s has no image yet: its release job has not pushed it", r.Number, r.Project)
					if r.PipelineRunID != nil {
						msg += " (see forge run get " + *r.PipelineRunID + ")"
					}
					return failed("%s", msg)
				}
				name, _, _ := strings.Cut(r.OCIURI, "@")
				if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
					name = name[:i]
				}
				ref = name + "@" + r.OCIDigest
			} else if !strings.Contains(ref, "/") {
				return &exitError{code: ExitUsage, msg: fmt.Sprintf("%q is not an image reference: give REGISTRY/REPOSITORY/PROJECT:SHA, or PROJECT RELEASE with --repository", ref)}
			}
			reg, err := ociregistry.New(ociregistry.Options{DockerConfig: dockerConfig, Insecure: insecure})
			if err != nil {
				return failed("%v", err)
			}
			img, err := packaging.Read(ctx, reg, ref)
			if err != nil {
				return apiError(err)
			}
			if resources {
				return printResources(s, o.output, img.Release.Resources)
			}
			return o.print(s.out, inspectJSON{img, string(img.Release.Resources)}, func(tw *tabwriter.Writer) { printInspected(tw, img) })
		},
	}
	o.flags(cmd.Flags())
	repositoryFlag(cmd, &repo)
	cmd.Flags().BoolVar(&resources, "resources", false, "print the resources (YAML, or a JSON array with --output json)")
	cmd.Flags().StringVar(&dockerConfig, "docker-config", envdefault.String("FORGE_DOCKER_CONFIG", ""), "docker config.json with registry credentials (default: docker's own)")
	cmd.Flags().StringSliceVar(&insecure, "insecure-registry", nil, "registry hosts spoken to over plain HTTP besides loopback ones")
	return cmd
}

// inspectJSON is the JSON form of an image: its metadata, and its
// resources as the YAML stream the image holds.
type inspectJSON struct {
	*packaging.Inspected
	ResourcesYAML string `json:"resources_yaml"`
}

func printInspected(tw *tabwriter.Writer, img *packaging.Inspected) {
	r := img.Release
	fmt.Fprintf(tw, "Image\t%s\n", img.Reference)
	fmt.Fprintf(tw, "Digest\t%s\n", img.Digest)
	fmt.Fprintf(tw, "Release\t%s/%s %d\n", r.Repository, r.Project, r.Number)
	fmt.Fprintf(tw, "Aliases\t%s\n", orNone(strings.Join(r.Aliases, ", ")))
	fmt.Fprintf(tw, "Trigger\t%s %s%s\n", r.Trigger.Type, r.Trigger.Branch, r.Trigger.Tag)
	fmt.Fprintf(tw, "Commit\t%s (%s)\n", r.Source.Commit, r.Source.Time.Format(time.RFC3339))
	if r.Source.Author != "" {
		fmt.Fprintf(tw, "Author\t%s\n", r.Source.Author)
	}
	if msg, _, _ := strings.Cut(strings.TrimSpace(r.Source.Message), "\n"); msg != "" {
		fmt.Fprintf(tw, "Message\t%s\n", msg)
	}
	if len(r.Artifacts) > 0 {
		fmt.Fprintln(tw, "\nARTIFACT\tTYPE\tTRACKING IMAGE")
		for _, a := range r.Artifacts {
			fmt.Fprintf(tw, "%s\t%s\t%s@%s\n", a.Name, a.Type, a.TrackingURI, a.TrackingDigest)
		}
	}
	fmt.Fprintln(tw, "\nKIND\tCOUNT\tNAMES")
	if len(r.Summary) == 0 {
		fmt.Fprintln(tw, "(no resources)\t\t")
	}
	for _, k := range r.Summary {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", k.Kind, k.Count, strings.Join(k.Names, ", "))
	}
}

// printResources writes a release's resources as YAML, or as a JSON
// array.
func printResources(s streams, output string, stream []byte) error {
	if output != "json" {
		_, err := s.out.Write(stream)
		return err
	}
	resources, err := rendering.ParseYAML(stream)
	if err != nil {
		return failed("%v", err)
	}
	if resources == nil {
		resources = []map[string]any{}
	}
	return writeJSON(s.out, resources)
}
