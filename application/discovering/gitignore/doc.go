// Package gitignore implements git's .gitignore matching for repository
// discovery.
//
// It lives in the application layer under discovering because the discovery
// use case walks a repository (often a large monorepo) top-down and must skip
// exactly the files and directories git itself would ignore, without shelling
// out to git and without paying for regular expressions on every path.
//
// Patterns are compiled once by [Parse]; a walker then keeps one immutable
// [Stack] per directory, built with [Stack.Push] as it descends, and asks
// [Stack.Ignored] about each entry it visits. The match path does not
// allocate.
//
// Supported syntax follows gitignore(5): comments, blank lines, escapes of a
// leading '#' or '!', trailing-space trimming (unless escaped), CRLF line
// endings, negation, directory-only patterns, anchoring, the wildcards '*',
// '?', bracket expressions (ranges, '!'/'^' negation, POSIX [:classes:]) and
// the "**" forms. Matching is byte-wise and case-sensitive, like git with
// core.ignoreCase unset.
//
// Contract with the walker: git never re-includes a path whose parent
// directory is excluded. [Stack.Ignored] does not re-check parents; it answers
// only for the path it is given, which is correct as long as the caller does
// not descend into directories reported as ignored.
package gitignore
