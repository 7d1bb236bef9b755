package forgecli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/application/cueconfig"
	"github.com/catalyst-forge/forge/domain/config"
)

type initOptions struct {
	name string
	path string
}

func newInit(s streams) *cobra.Command {
	o := &initOptions{}
	cmd := &cobra.Command{
		Use:   "init NAME",
		Short: "Create the .forge configuration of a new project",
		Long: `Init creates DIR/.forge/project.cue (DIR is --path, default the current
directory) and DIR/.forge/cue.mod/module.cue for a project called NAME.

NAME must be kebab-case: lowercase letters and digits in words joined by
hyphens. When DIR is inside a forge repository, the new project gets a
placeholder script step for every phase the repository marks required, so
it validates at once; replace those steps with real ones.

Init never overwrites: it stops if either file already exists.`,
		Example: `  forge init auth-service --path services/auth
  cd services/api && forge init api`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return o.run(s)
		},
	}
	cmd.Flags().StringVarP(&o.path, "path", "p", ".", "project directory to create the configuration in")
	return cmd
}

func (o *initOptions) run(s streams) error {
	if msg := config.CheckProjectName(o.name); msg != "" {
		return &exitError{code: ExitUsage, msg: msg}
	}
	dir, err := filepath.Abs(o.path)
	if err != nil {
		return failed("%s: %v", o.path, err)
	}
	if strings.Contains(filepath.ToSlash(dir)+"/", "/"+cueconfig.ForgeDir+"/") {
		return failed("%s is inside a .forge directory; give the project's own directory", o.path)
	}
	forge := filepath.Join(dir, cueconfig.ForgeDir)
	projectFile := filepath.Join(forge, cueconfig.ProjectFile)
	moduleFile := filepath.Join(forge, filepath.FromSlash(cueconfig.ModuleFile))
	for _, f := range []string{projectFile, moduleFile} {
		if _, err := os.Lstat(f); err == nil {
			return failed("%s already exists; init never overwrites a configuration", displayPath(f))
		}
	}

	// Inside a repository, scaffold the required phases and check the result.
	var co *checkout
	var rc *cueconfig.RepoConfig
	// The project directory may not exist yet: look from its nearest
	// existing ancestor.
	existing := dir
	for {
		if st, err := os.Stat(existing); err == nil && st.IsDir() {
			break
		}
		if filepath.Dir(existing) == existing {
			break
		}
		existing = filepath.Dir(existing)
	}
	if c, err := findCheckout(existing); err == nil {
		co = c
		loader := cueconfig.NewLoader()
		var ps config.Problems
		rc, ps = loader.LoadRepo(os.DirFS(co.root))
		if rc == nil {
			for _, p := range ps {
				fmt.Fprintf(s.err, "%s: %s\n", co.position(p.Pos), p.Message)
			}
			return failed("the repository configuration is invalid; fix it before adding a project")
		}
	}

	var required []string
	if rc != nil {
		for name, ph := range rc.Repo.Phases {
			if ph.Required {
				required = append(required, name)
			}
		}
		sort.Strings(required)
	}
	created, err := writeNew([]newFile{
		{projectFile, projectTemplate(o.name, required)},
		{moduleFile, moduleTemplate(o.name)},
	})
	if err != nil {
		return err
	}
	if co != nil {
		rel, err := filepath.Rel(co.root, dir)
		if err == nil {
			_, ps := cueconfig.NewLoader().LoadProject(os.DirFS(co.root), filepath.ToSlash(rel), rc)
			if errs, _ := ps.Split(); len(errs) > 0 {
				removeAll(created)
				for _, p := range errs {
					fmt.Fprintf(s.err, "%s: %s\n", co.position(p.Pos), p.Message)
				}
				return failed("the new project would not validate, so nothing was written")
			}
		}
	}
	for _, f := range created {
		fmt.Fprintf(s.out, "created %s\n", displayPath(f))
	}
	if co == nil {
		fmt.Fprintf(s.err, "note: %s is not inside a forge repository (no .forge/repo.cue above it); the project is checked once it is\n", o.path)
	} else if len(required) > 0 {
		fmt.Fprintf(s.out, "replace the placeholder steps of the required phases (%s) with real ones, then run 'forge validate'\n", strings.Join(required, ", "))
	}
	return nil
}

type newFile struct {
	path    string
	content []byte
}

// writeNew creates every file, failing if one exists; on any failure it
// removes what it created, so init leaves nothing half-written.
func writeNew(files []newFile) ([]string, error) {
	var created []string
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			removeAll(created)
			return nil, failed("%v", err)
		}
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			removeAll(created)
			if errors.Is(err, fs.ErrExist) {
				return nil, failed("%s already exists; init never overwrites a configuration", displayPath(f.path))
			}
			return nil, failed("%v", err)
		}
		created = append(created, f.path)
		_, werr := fh.Write(f.content)
		cerr := fh.Close()
		if werr != nil || cerr != nil {
			removeAll(created)
			return nil, failed("writing %s: %v", displayPath(f.path), errors.Join(werr, cerr))
		}
	}
	return created, nil
}

// removeAll removes created files and the directories init made for them,
// leaving any directory that holds something else.
func removeAll(files []string) {
	for i := len(files) - 1; i >= 0; i-- {
		os.Remove(files[i])
		for d := filepath.Dir(files[i]); filepath.Base(d) != ""; d = filepath.Dir(d) {
			if os.Remove(d) != nil || filepath.Base(d) == cueconfig.ForgeDir {
				break
			}
		}
	}
}

func projectTemplate(name string, required []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "package project\n\n")
	fmt.Fprintf(&b, "// The configuration of the %s project. 'forge validate' checks it.\n", name)
	fmt.Fprintf(&b, "name: %q\n", name)
	if len(required) > 0 {
		b.WriteString("\n// One placeholder step for each phase the repository marks required.\n")
		b.WriteString("// Steps are `action: \"script\"` (run, shell) or `action: \"earthly\"` (target, args).\n")
		b.WriteString("ci: phases: {\n")
		for _, phase := range required {
			fmt.Fprintf(&b, "\t%s: placeholder: {\n", cueLabel(phase))
			b.WriteString("\t\taction: \"script\"\n")
			fmt.Fprintf(&b, "\t\trun:    %q\n", fmt.Sprintf("echo 'no %s step for %s yet'", phase, name))
			b.WriteString("\t}\n")
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

func moduleTemplate(name string) []byte {
	return fmt.Appendf(nil, "// This .forge directory is a CUE module; forge created this file.\nmodule: %q\nlanguage: version: %q\n",
		"forge.local/"+name+"@v0", "v0.17.0")
}

// cueLabel quotes a field name unless it is a plain identifier that starts
// with a letter (a leading "_" would make a hidden field, "#" a definition).
func cueLabel(s string) string {
	for i, r := range s {
		letter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		ok := letter || (i > 0 && (r == '_' || (r >= '0' && r <= '9')))
		if !ok {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
