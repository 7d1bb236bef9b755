#!/usr/bin/env bash
# How a worker consuming every job type in one consumption shares its four
# slots: forge dev run (scripts/noop-monorepo.sh repositories, a fresh data
# directory each time) built with every type in one consumption, at HEAD
# and at PEER_REV (default b8bfd3c, before idle types left their slots to
# a busy one), beside HEAD as it is (CI jobs consumed apart), in turns.
# forge dev consumes CI apart, so both "together" builds are made with the
# same one-line edit of reference/forgedev/platform.go, which undoes that
# split; all three are built from commits (HEAD, PEER_REV), not from the
# working tree. SIZES (default "10 200") are the project counts; COUNT (default
# 4) the runs of each build per size.
set -euo pipefail
export CGO_ENABLED=0 # static binaries, as make build makes them
cd "$(dirname "$0")/.."
COUNT="${COUNT:-4}"
SIZES="${SIZES:-10 200}"
PEER_REV="${PEER_REV:-b8bfd3c}"
work="$(mktemp -d)"
trap 'git worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
split='[][]job.Type{{job.TypeCI}, {job.TypeDiscovery, job.TypeArtifact, job.TypeRelease, job.TypeDeployment}}'
one='[][]job.Type{{job.TypeCI, job.TypeDiscovery, job.TypeArtifact, job.TypeRelease, job.TypeDeployment}}'

# build REV OUT [together]: builds forge at REV into OUT, with every type
# in one consumption when asked.
build() {
  git worktree add -q --detach "$work/src" "$1"
  local f="$work/src/reference/forgedev/platform.go"
  if [ "${3:-}" = together ]; then
    grep -qF "$split" "$f" || { echo "no CI split to undo in $f at $1" >&2; exit 1; }
    python3 - "$f" "$split" "$one" <<'PY'
import sys
p, a, b = sys.argv[1:]
s = open(p).read()
open(p, "w").write(s.replace(a, b))
PY
  fi
  (cd "$work/src" && go build -o "$2" ./reference/cmd/forge)
  git worktree remove --force "$work/src"
}
build HEAD "$work/together" together
build "$PEER_REV" "$work/peer" together
build HEAD "$work/apart"
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

together_once() { dev_run "$work/together" "$work/repo-$size" "$work/data"; }
peer_once() { dev_run "$work/peer" "$work/repo-$size" "$work/data"; }
apart_once() { dev_run "$work/apart" "$work/repo-$size" "$work/data"; }

for size in $SIZES; do
  scripts/noop-monorepo.sh "$work/repo-$size" "$size"
  echo "== $size projects x 3 phases, every type in one consumption"
  take_turns "$work/runs-$size" together peer apart
  awk -v a=together -v b=peer -v ratio="together / peer ($PEER_REV) at $size projects" -f scripts/medians.awk "$work/runs-$size"
  awk -v a=together -v b=apart -v ratio="together / apart at $size projects" -f scripts/medians.awk "$work/runs-$size" | grep '^together / apart'
done
