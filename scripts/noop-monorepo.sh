#!/bin/sh
# noop-monorepo.sh DIR [PROJECTS]: writes a monorepo of PROJECTS (default
# 10) projects with one no-op script step in each of three phases, in three
# groups; the end-to-end benchmark of docs/benchmarks.md runs it.
set -eu
dir=${1:?usage: noop-monorepo.sh DIR [PROJECTS]}
n=${2:-10}
rm -rf "$dir"
mkdir -p "$dir/.forge"
cat > "$dir/.forge/repo.cue" <<'CUE'
package repo

forgeVersion: "v1.0.0"
tagging: strategy: "monorepo"
phases: {
	check: group: 1
	build: group: 2
	test: group:  3
}
CUE
i=1
while [ "$i" -le "$n" ]; do
	p=$(printf 'p%02d' "$i")
	mkdir -p "$dir/$p/.forge"
	cat > "$dir/$p/.forge/project.cue" <<CUE
package project

name: "$p"
ci: phases: {
	check: noop: {action: "script", run: "true"}
	build: noop: {action: "script", run: "true"}
	test: noop: {action: "script", run: "true"}
}
CUE
	i=$((i + 1))
done
