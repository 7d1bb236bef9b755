package forgecli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/catalyst-forge/forge/application/discovering"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/reference/internal/discoverchild"
)

type discoverOptions struct {
	dir    string
	git    discovery.GitContext
	output string
	limits discovering.Limits
}

func newDiscover(s streams) *cobra.Command {
	o := &discoverOptions{}
	cmd := &cobra.Command{
		Use:   "discover [DIR]",
		Short: "List the projects of a repository, their phases and release triggers",
		Long: `Discover walks the repository that contains DIR (default: the current
directory), as the first step of every pipeline does: it respects .gitignore
files, never follows symbolic links, loads every .forge/project.cue, and
evaluates release triggers for a git context.

The git context defaults to the checkout's HEAD (its branch, the tag that
points at it, and its commit). --branch and --tag describe an event instead:
given either, the other is empty, as on a real push, so you can ask "what
would release if I pushed tag api/v1.2.0?". --commit overrides the commit.

Invalid projects are skipped and listed; discovery still succeeds (use
'forge validate' to fail on them). --output json prints the discovery output
that pipelines consume.

The configuration is evaluated in a child process bounded in time and
memory (--discovery-time, --discovery-file-time, --discovery-memory); a
configuration that passes a bound fails the discovery, naming its file.`,
		Example: `  forge discover
  forge discover --branch main
  forge discover --tag auth-service/v1.2.0 --output json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dir = dirArg(args)
			return o.run(cmd, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.git.Branch, "branch", "", "branch to evaluate release triggers for (default: HEAD's branch)")
	f.StringVar(&o.git.Tag, "tag", "", "tag to evaluate release triggers for (default: the tag at HEAD)")
	f.StringVar(&o.git.Commit, "commit", "", "commit SHA to report (default: HEAD)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	discoverchild.Flags(f, &o.limits)
	return cmd
}

func (o *discoverOptions) run(cmd *cobra.Command, s streams) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	co, err := findCheckout(o.dir)
	if err != nil {
		return err
	}
	// --branch or --tag describe an event on their own (a tag push has no
	// branch); without them the event is HEAD. The commit is HEAD's unless
	// --commit names one.
	git := o.git
	flags := cmd.Flags()
	explicit := flags.Changed("branch") || flags.Changed("tag")
	if !explicit || !flags.Changed("commit") {
		head := gitContext(cmd.Context(), co.root)
		if !explicit {
			git.Branch, git.Tag = head.Branch, head.Tag
		}
		if !flags.Changed("commit") {
			git.Commit = head.Commit
		}
	}
	svc := discoverchild.New(o.limits)
	res, err := svc.Discover(cmd.Context(), co.root, git)
	if err != nil {
		if ps, ok := discovering.Problems(err); ok {
			for _, p := range ps {
				fmt.Fprintf(s.err, "%s: %s\n", co.position(p.Pos), p.Message)
			}
			if discovering.StoppedAtLimits(err) {
				return failed("discovery stopped at its limits; nothing was discovered")
			}
			return failed("the repository configuration is invalid; nothing was discovered")
		}
		return failed("%v", err)
	}
	errs, warnings := res.Problems.Split()
	for _, w := range warnings {
		fmt.Fprintf(s.err, "%s: warning: %s\n", co.position(w.Pos), w.Message)
	}
	if o.output == "json" {
		return writeJSON(s.out, res.Output)
	}
	printDiscovery(s.out, res, git)
	if len(errs) > 0 {
		fmt.Fprintf(s.out, "\nSkipped (%s):\n", plural(len(errs), "problem"))
		for _, e := range errs {
			fmt.Fprintf(s.out, "  %s: %s\n", co.position(e.Pos), e.Message)
		}
	}
	return nil
}

// printDiscovery writes the readable form of a discovery: the repository,
// the phase groups, a table of projects, and each project's ordered steps.
func printDiscovery(w io.Writer, res *discovering.Result, git discovery.GitContext) {
	out := res.Output
	fmt.Fprintf(w, "Repository  forgeVersion %s, tagging %s\n", out.Repository.ForgeVersion, out.Repository.Tagging.Strategy)
	fmt.Fprintf(w, "Git         %s\n", describeGit(git))
	fmt.Fprintln(w, "\nPhase groups")
	for _, g := range out.PhaseGroups {
		fmt.Fprintf(w, "  %d  %s\n", g.Group, strings.Join(g.Phases, ", "))
	}
	fmt.Fprintf(w, "\nProjects (%d)\n", len(out.Projects))
	if len(out.Projects) == 0 {
		fmt.Fprintln(w, "  none")
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tPATH\tPHASES\tARTIFACTS\tRELEASE")
	byName := map[string]*config.Project{}
	for _, p := range res.Projects {
		byName[p.Name] = p
	}
	for _, p := range out.Projects {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Name, p.Path, phaseSummary(p, out.PhaseGroups),
			orDash(sortedNames(p.Artifacts)), releaseSummary(byName[p.Name], p.ReleaseTriggered))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nSteps (in run order; equal priority runs in parallel)")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, p := range out.Projects {
		for _, g := range out.PhaseGroups {
			for _, phase := range g.Phases {
				for _, st := range p.Phases[phase] {
					fmt.Fprintf(tw, "  %s\t%s\t%s\tpriority %d\t%s\n", p.Name, phase, st.Name, st.Priority, describeStep(st))
				}
			}
		}
	}
	tw.Flush()
}

func describeGit(g discovery.GitContext) string {
	var parts []string
	if g.Branch != "" {
		parts = append(parts, "branch "+g.Branch)
	}
	if g.Tag != "" {
		parts = append(parts, "tag "+g.Tag)
	}
	if g.Commit != "" {
		c := g.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		parts = append(parts, "commit "+c)
	}
	if len(parts) == 0 {
		return "no branch, tag or commit (not a git checkout?)"
	}
	return strings.Join(parts, ", ")
}

func phaseSummary(p discovery.Project, groups []discovery.PhaseGroup) string {
	var parts []string
	for _, g := range groups {
		for _, phase := range g.Phases {
			if n := len(p.Phases[phase]); n > 0 {
				parts = append(parts, fmt.Sprintf("%s(%d)", phase, n))
			}
		}
	}
	return orDash(parts)
}

func releaseSummary(p *config.Project, triggered bool) string {
	if p == nil {
		return "-"
	}
	if !p.Release.Enabled {
		return "disabled"
	}
	var on []string
	for _, t := range p.Release.On {
		if t.Branch != "" {
			on = append(on, "branch "+t.Branch)
		}
		if t.Tag {
			on = append(on, "tag")
		}
	}
	state := "no"
	if triggered {
		state = "YES"
	}
	if len(on) == 0 {
		return state
	}
	return fmt.Sprintf("%s (on %s)", state, strings.Join(on, ", "))
}

func describeStep(st config.Step) string {
	switch st.Action {
	case config.ActionEarthly:
		return strings.TrimSpace("earthly " + st.Target + " " + strings.Join(st.Args, " "))
	case config.ActionScript:
		var lines []string
		for l := range strings.Lines(st.Run) {
			if l = strings.Join(strings.Fields(l), " "); l != "" {
				lines = append(lines, l)
			}
		}
		run := strings.Join(lines, "; ")
		if len(run) > 60 {
			run = run[:57] + "..."
		}
		return "script: " + run
	}
	return string(st.Action)
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func orDash(xs []string) string {
	if len(xs) == 0 {
		return "-"
	}
	return strings.Join(xs, " ")
}
