// Package cueconfig evaluates forge configuration written in CUE: the
// repository's `.forge/repo.cue` and each project's `.forge/project.cue`.
// It is in the application layer. It embeds the closed schema, accepts the
// spec's value-position attributes (`image: @artifact("web.uri")`),
// resolves @repo() references, records @artifact() references, and turns
// every error into a config.Problem with the user's file, line and column.
package cueconfig
