#!/usr/bin/env bash
# bench-report.sh: runs the comparisons of docs/benchmarks.md, each beside
# its peer in the same run, and prints every figure's median and range and,
# where a figure is a ratio to a peer, the ratio of the medians. COUNT
# (default 5) is the runs of each side; ONLY (a space-separated list of
# section names below) runs some of them. The sections and their peers:
#
#   discovery   discovering.Discover in process / in the bounded child (the
#               bound's cost)
#   gitcache    a warm checkout (reused workspace, and fresh) / git clone
#   queue       a job round trip over JetStream / its floor (publish, pull,
#               ack, reply with no work) / bare NATS request-reply
#   gitops      20 concurrent deployments through the adapter / git command
#   publish     publishing a 50 MB image / crane push   (scripts/bench-publish.sh)
#   render      forge render of 500 resources / cue export (scripts/bench-render.sh)
#   cmp         forge-cmp generate / crane export       (scripts/bench-cmp.sh)
#   pipeline    forge dev run of 10 and 50 projects / forge before issue 14
#               (scripts/bench-pipeline.sh; SIZES to change)
#   slots       forge dev run with every job type in one consumption /
#               the same before idle types yielded slots, and / CI apart
#               (scripts/bench-slots.sh)
#   api         forge-api under forge-loadtest / a do-nothing server
#               answering the same bodies (its share of that ceiling)
#   natsapi     a release lookup over NATS / the same over HTTP (issue 11)
#
# It takes long (about half an hour at COUNT=5); every section also runs
# alone through the command docs/benchmarks.md gives for it.
set -euo pipefail
cd "$(dirname "$0")/.."
export COUNT="${COUNT:-5}"
ONLY="${ONLY:-discovery gitcache queue gitops publish render cmp pipeline slots api natsapi}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

wanted() { [[ " $ONLY " == *" $1 "* ]]; }
section() { printf '\n## %s\n' "$1"; }

# gobench NAME PKG PATTERN BENCHTIME [A:B...]: runs the Go benchmarks
# matching PATTERN in PKG COUNT times, prints each one's median and range,
# and for each pair A:B (names without "Benchmark" and the -N suffix) the
# ratio of their medians.
gobench() {
  local name="$1" pkg="$2" pattern="$3" benchtime="$4"
  shift 4
  go test -run '^$' -bench "$pattern" -benchtime "$benchtime" -count "$COUNT" "$pkg" |
    awk '/^Benchmark/ && / ns\/op/ { n = $1; sub(/^Benchmark/, "", n); sub(/-[0-9]+$/, "", n)
      for (i = 3; i <= NF; i++) if ($(i) == "ns/op") print n, $(i - 1) }' >"$work/$name.runs"
  awk -f scripts/medians.awk "$work/$name.runs" | sort
  local pair a b
  for pair in "$@"; do
    a="${pair%%:*}" b="${pair#*:}"
    awk -v a="$a" -v b="$b" '$1 == a || $1 == b' "$work/$name.runs" |
      awk -v a="$a" -v b="$b" -v ratio="ratio $a / $b" -f scripts/medians.awk | grep '^ratio'
  done
}

if wanted discovery; then
  section "Discovery of 200 projects: in process and bounded (issue 2, 13)"
  gobench discovery ./application/discovering/ 'Discover' 3x DiscoverIsolated:Discover
fi
if wanted gitcache; then
  section "Git cache against a fresh clone (issue 4, 14)"
  gobench gitcache ./adapters/onprem/gitcache/ Checkout 3x \
    Checkout/size=25MB/warm-cache:Checkout/size=25MB/fresh-clone Checkout/size=25MB/warm-fresh:Checkout/size=25MB/fresh-clone
fi
if wanted queue; then
  section "Job round trip over NATS JetStream (issue 4)"
  gobench queue ./adapters/onprem/natsqueue/ RoundTrip 200x \
    RoundTrip/embedded/job-round-trip:RoundTrip/embedded/jetstream-floor RoundTrip/embedded/job-round-trip:RoundTrip/embedded/bare-request-reply
fi
if wanted natsapi; then
  section "A release lookup over NATS beside HTTP (issue 11)"
  gobench natsapi ./transport/nats/ ReleaseLookup 2s ReleaseLookup/nats:ReleaseLookup/http
fi
if wanted gitops; then
  section "Twenty deployments at once to one GitOps remote (issue 10)"
  gobench gitops ./adapters/onprem/gitops/ ConcurrentDeployments 1x ConcurrentDeployments/forge:ConcurrentDeployments/git
fi
if wanted publish; then
  section "Publishing a container image (issue 8)"
  scripts/bench-publish.sh 2>&1 | grep -E 'median|ratio|:' | grep -vE '^(forge|crane)[a-z-]* [0-9]+$'
fi
if wanted render; then
  section "Rendering 500 resources (issue 9)"
  scripts/bench-render.sh 2>&1 | grep -E 'median|ratio|: [0-9.]+$'
fi
if wanted cmp; then
  section "forge-cmp generate for a release of 500 resources (issue 10)"
  scripts/bench-cmp.sh 2>&1 | grep -E 'median|: [0-9.]+$'
fi
if wanted pipeline; then
  section "Pipelines at monorepo scale (issue 14)"
  SIZES="${SIZES:-10 50}" scripts/bench-pipeline.sh 2>&1 | grep -E 'median|: [0-9.]+$|times|overlap'
fi
if wanted slots; then
  section "A worker's slots shared by every job type (issue 14)"
  SIZES="${SIZES:-10 50}" scripts/bench-slots.sh 2>&1 | grep -E 'median|: [0-9.]+$'
fi
if wanted api; then
  section "API under load beside its ceiling (issue 3, 14)"
  go build -o "$work/forge-loadtest" ./reference/cmd/forge-loadtest
  for _ in $(seq "$COUNT"); do "$work/forge-loadtest" -duration 5s; done |
    awk '/req\/s/ && !/ceiling/ { name = $1 " " $2; rate = $3 } /ceiling/ { print name " " rate " " $6 }' |
    awk '{ k = $1 " " $2; s[k] = s[k] " " $3; c[k] = c[k] " " $4 }
      END { for (k in s) { n = split(s[k], a, " "); split(c[k], b, " "); asort(a); asort(b); m = (n % 2) ? (n + 1) / 2 : n / 2
        printf "%-50s median %.0f req/s (range %.0f-%.0f), ceiling median %.0f req/s, ratio of medians %.2f\n", k, a[m], a[1], a[n], b[m], a[m] / b[m] } }'
fi
