#!/usr/bin/env bash
# forge dev run on generated monorepos of no-op steps (scripts/noop-
# monorepo.sh: PROJECTS x 3 phases, three groups), the whole command each
# time on a fresh data directory, beside the same command of forge built
# at PEER_REV (default 69a7d28, before issue 14), in turns. SIZES (default
# "10 50 200") are the project counts; COUNT (default 3) the runs of each
# side per size. Prints each run, the medians and ranges, the ratio of the
# medians (this tree / peer) per size, how the pipeline's time grows (the
# median at the largest size over the median at the smallest), and the
# overlap of one more run of this tree at the largest size: per phase,
# the tasks' summed durations over the phase's span, i.e. how many ran at
# once on average.
set -euo pipefail
export CGO_ENABLED=0 # static binaries, as make build makes them
cd "$(dirname "$0")/.."
COUNT="${COUNT:-3}"
SIZES="${SIZES:-10 50 200}"
PEER_REV="${PEER_REV:-69a7d28}"
work="$(mktemp -d)"
trap 'git worktree remove --force "$work/peer-src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
go build -o "$work/forge" ./reference/cmd/forge
git worktree add -q --detach "$work/peer-src" "$PEER_REV"
(cd "$work/peer-src" && go build -o "$work/peer" ./reference/cmd/forge)
git worktree remove --force "$work/peer-src"
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

forge_once() { dev_run "$work/forge" "$work/repo-$size" "$work/data"; }
peer_once() { dev_run "$work/peer" "$work/repo-$size" "$work/data"; }

first="" last=""
for size in $SIZES; do
  scripts/noop-monorepo.sh "$work/repo-$size" "$size"
  echo "== $size projects x 3 phases ($((size * 3)) tasks)"
  take_turns "$work/runs-$size" forge peer
  awk -v a=forge -v b=peer -v ratio="forge / peer at $size projects" -f scripts/medians.awk "$work/runs-$size"
  [ -z "$first" ] && first="$size"
  last="$size"
done
if [ "$first" != "$last" ]; then
  for who in forge peer; do
    awk -v who="$who" -v f="$first" -v l="$last" 'FILENAME ~ "runs-"f"$" && $1 == who { a[++n] = $2 } FILENAME ~ "runs-"l"$" && $1 == who { b[++m] = $2 }
      END { asort(a); asort(b); ma = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2; mb = (m % 2) ? b[(m + 1) / 2] : (b[m / 2] + b[m / 2 + 1]) / 2
        printf "%s: %s projects take %.1f times %s projects\n", who, l, mb / ma, f }' "$work/runs-$first" "$work/runs-$last"
  done
fi

"$work/forge" dev run --data "$work/data-overlap" --output json "$work/repo-$last" >"$work/run.json"
python3 - "$work/run.json" <<'PY'
import json, sys
from datetime import datetime
run = json.load(open(sys.argv[1]))
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
for ph in run["phases"]:
    tasks = [x for x in ph["tasks"] if x.get("started_at") and x.get("completed_at")]
    busy = sum(t(x["completed_at"]) - t(x["started_at"]) for x in tasks)
    span = max(t(x["completed_at"]) for x in tasks) - min(t(x["started_at"]) for x in tasks)
    print(f"overlap of {ph['name']}: {busy / span:.2f} tasks at once ({len(tasks)} tasks, {busy:.1f} s of tasks in {span:.1f} s)")
PY
