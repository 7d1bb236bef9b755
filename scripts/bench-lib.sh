# Shared by the benchmark scripts (sourced).
#
# resources IMAGE: prints N (default 500) Kubernetes resources as CUE list
# elements, a third each Deployments (their image written as IMAGE),
# Services and ConfigMaps.
resources() {
  for i in $(seq "${N:-500}"); do
    case $((i % 3)) in
    0) printf '\t{apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "app-%d", labels: {app: "app-%d", tier: "web"}}, spec: {replicas: 2, selector: matchLabels: app: "app-%d", template: {metadata: labels: app: "app-%d", spec: containers: [{name: "app", image: %s, ports: [{containerPort: 8080}], env: [{name: "INDEX", value: "%d"}]}]}}},\n' "$i" "$i" "$i" "$i" "$1" "$i" ;;
    1) printf '\t{apiVersion: "v1", kind: "Service", metadata: name: "svc-%d", spec: {selector: app: "app-%d", ports: [{port: 80, targetPort: 8080}]}},\n' "$i" "$i" ;;
    2) printf '\t{apiVersion: "v1", kind: "ConfigMap", metadata: name: "config-%d", data: {"index": "%d", "greeting": "hello from %d"}},\n' "$i" "$i" "$i" ;;
    esac
  done
}

# take_turns RUNS NAME...: runs NAME_once for each NAME in turn, COUNT
# times (default 15), so that a change in the machine's load falls on
# all, appending "NAME NANOSECONDS" lines to RUNS (read by medians.awk).
take_turns() {
  local runs="$1" start who
  shift
  : > "$runs"
  for _ in $(seq "${COUNT:-15}"); do
    for who in "$@"; do
      start=$(date +%s%N)
      "${who}_once"
      echo "$who $(( $(date +%s%N) - start ))" | tee -a "$runs"
    done
  done
}

# dev_run FORGE REPO DATA: one forge dev run of REPO on a fresh data
# directory DATA; on failure it prints the run's output and exits.
dev_run() {
  rm -rf "$3"
  "$1" dev run --data "$3" "$2" >"$3.out" 2>&1 || { cat "$3.out"; exit 1; }
}
