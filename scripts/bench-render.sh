#!/usr/bin/env bash
# Rendering a project with 500 deployment resources (`forge render` with
# every @artifact reference filled), beside `cue export` of the same 500
# resources to YAML, interleaved in one run; then the packaging of the
# rendered stream into a Release OCI image (BenchmarkBuild500). Builds the
# cue CLI of go.mod's CUE version from the Go module proxy once. Prints
# each run, the medians, ranges and the ratio forge / cue.
set -euo pipefail
export CGO_ENABLED=0 # static binaries, as make build makes them
cd "$(dirname "$0")/.."
COUNT="${COUNT:-15}"
N="${RESOURCES:-500}"
GOBIN_DIR="$(go env GOPATH)/bin"
CUE_VERSION="$(go list -m -f '{{.Version}}' cuelang.org/go)"
CUE="$GOBIN_DIR/cue"
if [ ! -x "$CUE" ] || ! "$CUE" version | grep -q "$CUE_VERSION"; then
  GOFLAGS= go install "cuelang.org/go/cmd/cue@$CUE_VERSION"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/forge" ./reference/cmd/forge
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

# The project: N resources, a third each Deployments (their image an
# @artifact reference), Services and ConfigMaps. The peer file holds the
# same resources with the image written out.
image="registry.example.com/team/big@sha256:$(printf 'a%.0s' $(seq 64))"
mkdir -p "$work/repo/.forge" "$work/repo/services/big/.forge" "$work/peer"
git -C "$work/repo" init -q
cat > "$work/repo/.forge/repo.cue" <<'CUE'
package repo

forgeVersion: "v1.0.0"
tagging: strategy: "monorepo"
phases: build: group: 1
publishers: registry: {type: "docker", registry: "registry.example.com", namespace: "team"}
CUE
{
  printf 'package project\n\nname: "big"\n\nartifacts: image: {\n\ttype: "container"\n\tproducer: script: run: "true"\n\tpublishers: registry: {}\n}\n\ndeployment: resources: [\n'
  resources '_ @artifact("image.publishers.registry.uri")'
  printf ']\n'
} > "$work/repo/services/big/.forge/project.cue"
{
  printf 'package peer\n\nresources: [\n'
  resources "\"$image\""
  printf ']\n'
} > "$work/peer/resources.cue"
printf '{"image": {"digest": "sha256:%s", "publishers": {"registry": {"uri": "%s"}}}}\n' "$(printf 'a%.0s' $(seq 64))" "$image" > "$work/artifacts.json"

forge_once() { "$work/forge" render "$work/repo/services/big" --artifacts "$work/artifacts.json" > "$work/forge.yaml"; }
cue_once() { "$CUE" export "$work/peer/resources.cue" -e resources --out yaml > "$work/cue.yaml"; }
forge_once
cue_once
echo "forge render: $(grep -c '^kind:' "$work/forge.yaml") resources; cue export: $(grep -c 'kind:' "$work/cue.yaml") resources"

# forge and cue take turns, so that a change in the machine's load falls
# on both.
take_turns "$work/runs" forge cue
awk -f scripts/medians.awk -v a=forge -v b=cue -v ratio="forge render / cue export" "$work/runs"
go test -run '^$' -bench 'Build500' -benchmem -count 5 ./application/packaging | grep -E '^Benchmark'
