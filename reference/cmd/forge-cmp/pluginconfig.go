package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/catalyst-forge/forge/domain/release"
)

// cmpPlugin is the plugin.yaml of Argo CD's Config Management Plugin
// sidecar (argoproj.io/v1alpha1 ConfigManagementPlugin), reduced to the
// fields forge-cmp sets. It mirrors Argo CD's own type (cmpserver/plugin
// in github.com/argoproj/argo-cd/v2) field for field, and the tests read
// what it prints with Argo CD's reader and validation; the binary does not
// link Argo CD itself, which would make every 'generate' start 50 ms
// slower in 75 MB more memory (docs/benchmarks.md).
type cmpPlugin struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Version  string `yaml:"version,omitempty"`
		Generate struct {
			Command []string `yaml:"command"`
		} `yaml:"generate"`
		Discover struct {
			FileName string `yaml:"fileName"`
		} `yaml:"discover"`
	} `yaml:"spec"`
}

// pluginConfig builds the plugin.yaml: generate runs 'COMMAND generate',
// and an Application whose source directory holds a release.yaml is
// discovered as this plugin's.
func pluginConfig(name, version, command string) (cmpPlugin, error) {
	var p cmpPlugin
	if name == "" {
		return p, fmt.Errorf("--name must not be empty: Argo CD names the plugin by it")
	}
	if command == "" {
		return p, fmt.Errorf("--command must not be empty: it is what the sidecar runs")
	}
	p.APIVersion, p.Kind = "argoproj.io/v1alpha1", "ConfigManagementPlugin"
	p.Metadata.Name = name
	p.Spec.Version = version
	p.Spec.Generate.Command = []string{command, "generate"}
	p.Spec.Discover.FileName = release.PointerFile
	return p, nil
}

func newPluginConfig(stdout io.Writer) *cobra.Command {
	var name, version, command string
	cmd := &cobra.Command{
		Use:   "plugin-config",
		Short: "Print the plugin.yaml of the forge-cmp sidecar",
		Long: `plugin-config prints the ConfigManagementPlugin that Argo CD's
repo-server sidecar reads from /home/argocd/cmp-server/config/plugin.yaml:
generate runs 'forge-cmp generate', and an Application whose source
directory holds a release.yaml (a ReleasePointer) is discovered as this
plugin's. Mount its output in the sidecar, for example from a ConfigMap:

  forge-cmp plugin-config > plugin.yaml
  kubectl -n argocd create configmap forge-cmp-plugin --from-file=plugin.yaml

With --version, Argo CD names the plugin NAME-VERSION; Applications that
name their plugin explicitly use that name.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			p, err := pluginConfig(name, version, command)
			if err != nil {
				return usage{err}
			}
			enc := yaml.NewEncoder(stdout)
			enc.SetIndent(2)
			if err := enc.Encode(p); err != nil {
				return err
			}
			return enc.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "forge", "the plugin's name (metadata.name)")
	f.StringVar(&version, "version", "", "the plugin's version (spec.version); Argo CD then names it NAME-VERSION")
	f.StringVar(&command, "command", "forge-cmp", "the forge-cmp executable as the sidecar finds it (a name on its PATH or an absolute path)")
	return cmd
}
