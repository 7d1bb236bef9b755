#!/usr/bin/env bash
# forge-cmp generate for a release of 500 resources, beside crane export
# of the same resources, interleaved in one run. The release is made the
# way a user makes it: `forge dev run` on a repository whose project
# deploys 500 resources releases it to a registry served by
# `crane registry serve` and deploys it to dev in its GitOps repository;
# forge-cmp then runs in the pointer's directory of a clone as Argo CD's
# sidecar does, with and without the signature check. crane export cannot
# read a Release image (its metadata layer is JSON, not a tar), so the
# peer is the release's own resources layer, the same blob, pushed as a
# one-layer image and read back with `crane export REF - | tar -xO`.
# Builds crane of go.mod's go-containerregistry version once. Prints each
# run, the medians, ranges and the ratios forge-cmp / crane.
set -euo pipefail
export CGO_ENABLED=0 # static binaries, as make build makes them
cd "$(dirname "$0")/.."
COUNT="${COUNT:-15}"
export N="${RESOURCES:-500}"
GOBIN_DIR="$(go env GOPATH)/bin"
GGCR_VERSION="$(go list -m -f '{{.Version}}' github.com/google/go-containerregistry)"
CRANE="$GOBIN_DIR/crane"
if [ ! -x "$CRANE" ] || [ "$("$CRANE" version)" != "$GGCR_VERSION" ]; then
  GOFLAGS= go install "github.com/google/go-containerregistry/cmd/crane@$GGCR_VERSION"
fi
work="$(mktemp -d)"
reg_pid=""
trap '[ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; rm -rf "$work"' EXIT
go build -o "$work/forge" ./reference/cmd/forge
go build -o "$work/forge-cmp" ./reference/cmd/forge-cmp
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
reg="127.0.0.1:$port"
"$CRANE" registry serve --address "$reg" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# The repository: one project releasing on main and deploying N resources.
mkdir -p "$work/repo/.forge" "$work/repo/services/big/.forge"
git -C "$work/repo" init -q -b main
cat > "$work/repo/.forge/repo.cue" <<'CUE'
package repo

forgeVersion: "v1.0.0"
tagging: strategy: "monorepo"
phases: build: group: 1
CUE
{
  printf 'package project\n\nname: "big"\n\nrelease: on: [{branch: "main"}]\n\ndeployment: resources: [\n'
  resources '"registry.example.com/team/app:1.0"'
  printf ']\n'
} > "$work/repo/services/big/.forge/project.cue"
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=bench -c user.email=bench@example.com commit -qm "500 resources"
"$work/forge" dev run "$work/repo" --ref main --registry "$reg" --data "$work/data" > "$work/run.log" 2>&1 ||
  { tail -30 "$work/run.log"; exit 1; }

git clone -q "$work/data/gitops.git" "$work/gitops"
pointer="$(cd "$work/gitops" && find environments -name release.yaml)"
dir="$(dirname "$pointer")"
digest="$(sed -n 's/^  digest: //p' "$work/gitops/$pointer")"
owner_name_project="${dir#environments/dev/}"
image="$reg/$owner_name_project@$digest"
echo "release image: $image"

# The peer image: the release's resources layer, the same blob, alone.
layer="$("$CRANE" manifest "$image" | python3 -c 'import json,sys; print([l["digest"] for l in json.load(sys.stdin)["layers"] if l["mediaType"].endswith("resources.v1+tar")][0])')"
"$CRANE" blob "$reg/$owner_name_project@$layer" > "$work/resources.tar"
"$CRANE" append --oci-empty-base -f "$work/resources.tar" -t "$reg/peer/big:1" >/dev/null 2>&1

cmp_once() { # $1: the public key, or empty
  (cd "$work/gitops/$dir" && ARGOCD_APP_SOURCE_PATH="$dir" ARGOCD_ENV_FORGE_RELEASE_REGISTRY="$reg" \
    FORGE_CMP_PUBLIC_KEY="$1" "$work/forge-cmp" generate > "$work/cmp.yaml" 2>"$work/cmp.log")
}
signed_once() { cmp_once "$work/data/cosign.pub"; }
unsigned_once() { cmp_once ""; }
crane_once() { "$CRANE" export "$reg/peer/big:1" - | tar -xO resources.yaml > "$work/crane.yaml"; }
signed_once
grep -q "signature verified" "$work/cmp.log" || { cat "$work/cmp.log"; exit 1; }
crane_once
cmp "$work/cmp.yaml" "$work/crane.yaml"
echo "forge-cmp and crane print the same $(grep -c '^kind:' "$work/cmp.yaml") resources ($(wc -c < "$work/cmp.yaml") bytes)"

# They take turns, so that a change in the machine's load falls on all.
take_turns "$work/runs" signed unsigned crane
awk -f scripts/medians.awk -v a=signed -v b=crane -v ratio="forge-cmp (signature checked) / crane export" "$work/runs"
awk -f scripts/medians.awk -v a=unsigned -v b=crane -v ratio="forge-cmp (no key) / crane export" "$work/runs"
