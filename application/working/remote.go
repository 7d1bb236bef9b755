package working

import (
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/repository"
)

// DefaultRemote is the remote template of a worker that is told nothing
// else: repositories are GitHub's.
const DefaultRemote = "https://github.com/{repository}.git"

// RemoteTemplate returns a Worker.Remote that fills tmpl in for a
// repository: {repository} is owner/name, {owner} and {name} its parts.
// The template must use {repository} or {name}, so that repositories do
// not all map to one URL.
func RemoteTemplate(tmpl string) (func(repository string) (string, error), error) {
	if !strings.Contains(tmpl, "{repository}") && !strings.Contains(tmpl, "{name}") {
		return nil, fault.New(fault.Validation, "remote template %q must contain {repository} or {name}", tmpl)
	}
	// file://src/x names the host "src": a relative path cannot be a
	// file URL, and reading it as one fails far from here.
	if rest, ok := strings.CutPrefix(tmpl, "file://"); ok && !strings.HasPrefix(rest, "/") && !strings.HasPrefix(rest, "localhost/") {
		return nil, fault.New(fault.Validation, "remote template %q holds a relative path; a file URL needs an absolute one (file:///path/{name})", tmpl)
	}
	return func(repo string) (string, error) {
		if err := repository.ValidateName(repo); err != nil {
			return "", err
		}
		owner, name, _ := strings.Cut(repo, "/")
		return strings.NewReplacer("{repository}", repo, "{owner}", owner, "{name}", name).Replace(tmpl), nil
	}, nil
}
