#!/usr/bin/env bash
# Publishing a 50 MB container image to a registry on loopback, beside
# `crane push` of the same OCI layout, interleaved in one run; then the
# re-publish of an unchanged image. Needs Debian's docker-registry
# (apt-get install docker-registry); builds crane from the Go module proxy
# once. Prints each run; docs/benchmarks.md gives medians and ranges.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${COUNT:-6}"
GOBIN_DIR="$(go env GOPATH)/bin"
[ -x "$GOBIN_DIR/crane" ] || GOFLAGS= go install github.com/google/go-containerregistry/cmd/crane@v0.22.1
data="$(mktemp -d)"
port="${PORT:-5077}"
cat > "$data/config.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $data/storage
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$data/config.yml" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 30); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
export FORGE_TEST_REGISTRY="127.0.0.1:$port" FORGE_BENCH_CRANE="$GOBIN_DIR/crane"
go test -c -o "$data/publishflags.test" ./reference/publishflags
# forge and crane take turns, so that a change in the machine's load
# falls on both; the median of each and their ratio are printed.
: > "$data/runs"
for _ in $(seq "$COUNT"); do
  for who in forge crane; do
    "$data/publishflags.test" -test.run '^$' -test.bench "Publish50MB/$who\$" -test.benchtime 5x | grep -E '^Benchmark' | tee -a "$data/runs"
  done
done
"$data/publishflags.test" -test.run '^$' -test.bench 'RepublishUnchanged' -test.benchtime 20x -test.count "$COUNT" | grep -E '^Benchmark' | tee -a "$data/runs"
awk '/^Benchmark/ { split($1, n, "-"); print n[1], $3 }' "$data/runs" |
  awk -f scripts/medians.awk -v a=BenchmarkPublish50MB/forge -v b=BenchmarkPublish50MB/crane -v ratio="forge / crane push"
