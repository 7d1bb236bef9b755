package forgecli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/application/cueconfig"
	"github.com/catalyst-forge/forge/application/rendering"
	"github.com/catalyst-forge/forge/domain/config"
)

type renderOptions struct {
	dir, artifacts, output string
}

func newRender(s streams) *cobra.Command {
	o := &renderOptions{}
	cmd := &cobra.Command{
		Use:   "render [PROJECT_DIR]",
		Short: "Preview the Kubernetes resources a project's release would carry",
		Long: `render evaluates the deployment.resources of the project in PROJECT_DIR
(default: the current directory) and prints them as a YAML stream, with
every @artifact("name.field") reference filled from --artifacts: a JSON
file mapping each artifact's name to its outputs as a release sees them
(the producer's fields, and publishers.<name>.<fields>), such as

  {"image": {"digest": "sha256:...", "publishers": {"docker": {"uri": "registry/app@sha256:..."}}}}

Without --artifacts, references are shown as <@artifact name.field>
placeholders and standard error lists them. A reference with no output in
the file, or a resource without apiVersion, kind or metadata.name, is an
error naming the file and line. --output json prints a JSON array.`,
		Example: `  forge render services/api
  forge render services/api --artifacts outputs.json --output json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dir = dirArg(args)
			return o.run(s)
		},
	}
	cmd.Flags().StringVar(&o.artifacts, "artifacts", "", "JSON file of the artifacts' outputs (default: placeholders)")
	cmd.Flags().StringVarP(&o.output, "output", "o", "yaml", "output format: yaml or json")
	return cmd
}

func (o *renderOptions) run(s streams) error {
	if err := checkOutput(o.output, "yaml", "json"); err != nil {
		return err
	}
	co, rel, err := findProject(o.dir)
	if err != nil {
		return err
	}
	fsys := os.DirFS(co.root)
	loader := cueconfig.NewLoader()
	rc, ps := loader.LoadRepo(fsys)
	if len(ps) > 0 {
		return problems(s, co, ps)
	}
	p, ps := loader.LoadProject(fsys, rel, rc)
	if len(ps) > 0 {
		return problems(s, co, ps)
	}
	outputs, err := readOutputs(o.artifacts)
	if err != nil {
		return err
	}
	res, err := rendering.Render(p, outputs, rendering.Options{Placeholders: o.artifacts == ""})
	if err != nil {
		return failed("%v", err)
	}
	for _, ref := range res.Unresolved {
		fmt.Fprintf(s.err, "%s: @artifact(%q) has no output: shown as %s (pass --artifacts)\n", co.position(ref.Pos), ref.Ref, rendering.Placeholder(ref.Ref))
	}
	if o.output == "json" {
		return writeJSON(s.out, res.Resources)
	}
	b, err := rendering.YAML(res.Resources)
	if err != nil {
		return err
	}
	_, err = s.out.Write(b)
	return err
}

// findProject finds the checkout holding the project in dir and the
// project's slash-separated path in it.
func findProject(dir string) (*checkout, string, error) {
	co, err := findCheckout(dir)
	if err != nil {
		return nil, "", err
	}
	abs, _ := filepath.Abs(dir)
	rel, err := filepath.Rel(co.root, abs)
	if err != nil {
		return nil, "", failed("%s: %v", dir, err)
	}
	if _, err := os.Stat(filepath.Join(abs, cueconfig.ForgeDir, cueconfig.ProjectFile)); err != nil {
		return nil, "", failed("%s is not a project: it has no %s/%s", dir, cueconfig.ForgeDir, cueconfig.ProjectFile)
	}
	return co, filepath.ToSlash(rel), nil
}

// problems prints configuration problems one a line, as forge validate
// does, and fails.
func problems(s streams, co *checkout, ps config.Problems) error {
	for _, p := range ps {
		fmt.Fprintf(s.err, "%s: %s\n", co.position(p.Pos), p.Message)
	}
	return silentFailure
}

// readOutputs reads an --artifacts file: artifact name → its outputs.
func readOutputs(path string) (rendering.Outputs, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, failed("--artifacts: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out rendering.Outputs
	if err := dec.Decode(&out); err != nil {
		return nil, failed("--artifacts %s: not a JSON object of artifact outputs: %v", path, err)
	}
	return out, nil
}
