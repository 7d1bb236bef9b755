package forgecli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/application/discovering"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/reference/internal/discoverchild"
)

type validateOptions struct {
	dir    string
	output string
	limits discovering.Limits
}

func newValidate(s streams) *cobra.Command {
	o := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check the repository's and every project's configuration",
		Long: `Validate checks .forge/repo.cue and every .forge/project.cue of the
repository that contains DIR (default: the current directory) against the
forge schema and against each other: unknown fields, wrong types, steps in
phases the repository does not define, missing steps in required phases,
unknown publishers, @repo() and @artifact() references, duplicate names.

It prints one line per problem as file:line:col: message and exits 1 when
there is any; warnings go to standard error and do not fail the check.

The configuration is evaluated in a child process bounded in time and
memory (--discovery-time, --discovery-file-time, --discovery-memory); a
configuration that passes a bound is a problem at its file.`,
		Example: `  forge validate
  forge validate path/to/repo
  forge validate --output json | jq .errors`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dir = dirArg(args)
			return o.run(cmd, s)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	discoverchild.Flags(cmd.Flags(), &o.limits)
	return cmd
}

// problemJSON is one problem in `forge validate --output json`.
type problemJSON struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

func (o *validateOptions) run(cmd *cobra.Command, s streams) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	co, err := findCheckout(o.dir)
	if err != nil {
		return err
	}
	svc := discoverchild.New(o.limits)
	res, err := svc.Discover(cmd.Context(), co.root, discovery.GitContext{})
	var problems config.Problems
	projects := 0
	switch {
	case err == nil:
		problems, projects = res.Problems, len(res.Projects)
	default:
		ps, ok := discovering.Problems(err)
		if !ok {
			return failed("%v", err)
		}
		problems = ps
	}
	errs, warnings := problems.Split()

	if o.output == "json" {
		doc := struct {
			Valid    bool          `json:"valid"`
			Projects int           `json:"projects"`
			Errors   []problemJSON `json:"errors"`
			Warnings []problemJSON `json:"warnings"`
		}{len(errs) == 0, projects, toJSON(co, errs), toJSON(co, warnings)}
		if err := writeJSON(s.out, doc); err != nil {
			return err
		}
	} else {
		for _, w := range warnings {
			fmt.Fprintf(s.err, "%s: warning: %s\n", co.position(w.Pos), w.Message)
		}
		for _, e := range errs {
			fmt.Fprintf(s.out, "%s: %s\n", co.position(e.Pos), e.Message)
		}
		if len(errs) == 0 {
			fmt.Fprintf(s.out, "ok: %s is valid (%s)\n", co.file(".forge/repo.cue"), plural(projects, "project"))
		}
	}
	if len(errs) > 0 {
		if o.output != "json" {
			fmt.Fprintf(s.err, "%s found\n", plural(len(errs), "problem"))
		}
		return silentFailure
	}
	return nil
}

func toJSON(co *checkout, ps config.Problems) []problemJSON {
	out := []problemJSON{}
	for _, p := range ps {
		out = append(out, problemJSON{File: co.file(p.Pos.File), Line: p.Pos.Line, Column: p.Pos.Column, Message: p.Message})
	}
	return out
}

// position prints a problem's position with the file as the user sees it.
func (c *checkout) position(p config.Position) string {
	p.File = c.file(p.File)
	return p.String()
}

func checkOutput(output string, allowed ...string) error {
	if len(allowed) == 0 {
		allowed = []string{"text", "json"}
	}
	for _, a := range allowed {
		if output == a {
			return nil
		}
	}
	return &exitError{code: ExitUsage, msg: fmt.Sprintf("--output %q is not supported (use %s)", output, joinOr(allowed))}
}

func joinOr(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	s := ""
	for i, x := range xs[:len(xs)-1] {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s + " or " + xs[len(xs)-1]
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fault.Wrap(fault.Internal, err, "writing JSON")
	}
	return nil
}

// plural formats n with a noun, adding "s" unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
