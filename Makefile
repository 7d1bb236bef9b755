# Catalyst Forge. `make run` runs the platform's main job on embedded
# defaults; `make test` runs every test. See README.md.

GO       ?= go
BIN      := bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/catalyst-forge/forge/reference/forgecli.Version=$(VERSION)
EXAMPLE  := reference/examples/monorepo
COMMANDS := $(notdir $(wildcard reference/cmd/*))

.PHONY: all build test run lint bench bench-report fuzz images compositions clean

all: build

## build: compile every command into bin/, static (CGO off) like the
## images: they run on any Linux and skip the dynamic loader at start
build:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ $(addprefix ./reference/cmd/,$(COMMANDS))

## test: run every test, conformance suites included
test:
	$(GO) test -count=1 ./...

## run: push the example monorepo through a real pipeline on embedded defaults
run: build
	$(BIN)/forge validate $(EXAMPLE)
	$(BIN)/forge dev run $(EXAMPLE)

## lint: formatting, go vet and the layering test
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -run 'TestLayering|TestViolations' .

## bench: run the benchmarks once each
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-report: every comparison of docs/benchmarks.md beside its peer,
## with medians, ranges and ratios (COUNT runs a side, ONLY=sections; long)
bench-report:
	scripts/bench-report.sh

## images: build the OCI images of forge-api, forge-worker, forge-dispatcher
## and forge-cmp without a Docker daemon and push them to REGISTRY, tagged
## VERSION; forge-worker is laid on WORKER_BASE (it needs git and a shell)
WORKER_BASE ?= cgr.dev/chainguard/git:latest-dev
images:
	@test -n "$(REGISTRY)" || { echo "set REGISTRY=HOST[/PATH]"; exit 2; }
	$(GO) run ./reference/cmd/forge-images --registry '$(REGISTRY)' --tag '$(VERSION)' --worker-base '$(WORKER_BASE)'

## compositions: regenerate the Crossplane Compositions of both profiles
## from reference/crossplane/compositions/templates/
compositions:
	$(GO) test -count=1 ./reference/crossplane -run TestCompositionsAreGenerated -update

## fuzz: fuzz the configuration loader for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoadProject -fuzztime $(FUZZTIME) ./application/cueconfig

clean:
	rm -rf $(BIN)
