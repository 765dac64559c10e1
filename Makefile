# kubectl-irsa developer targets. `make help` lists them.
GO      ?= go
BIN     ?= bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
PKG     := github.com/kubectl-irsa/kubectl-irsa/pkg/plugin
LDFLAGS := -s -w -X $(PKG).version=$(VERSION) -X $(PKG).commit=$(COMMIT) -X $(PKG).date=$(DATE)
# vet, build, the unit tests, the end-to-end suite (and the binaries it
# builds) and the release all compile with GoReleaser's settings,
# CGO_ENABLED=0 and -trimpath, so a cold machine compiles the dependency graph
# for linux once, not once per step. A cold .ci/run is CPU-bound on 2 cores.
STATIC  := CGO_ENABLED=0 GOFLAGS="$(strip $(GOFLAGS) -trimpath)"
# The packages that start goroutines (AWS collection, TLS inspection, the
# probe). They do not import client-go, so running them under the race
# detector does not recompile the Kubernetes half of the graph; `make race`
# runs everything.
RACE_PKGS := ./pkg/cloud/... ./pkg/thumbprint/... ./pkg/probe/...

.PHONY: help build install test fmt-check vet unit race e2e k8s-tools golden docs tidy-check clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## Build bin/kubectl-irsa
	$(STATIC) $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/kubectl-irsa ./cmd/kubectl-irsa

install: ## Install kubectl-irsa into GOBIN (on PATH, kubectl finds it as `kubectl irsa`)
	$(STATIC) $(GO) install -ldflags '$(LDFLAGS)' ./cmd/kubectl-irsa

test: fmt-check vet tidy-check unit e2e ## The whole suite CI runs: format, vet, tidy, unit, wire and end-to-end tests

fmt-check: ## Fail when gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: ## go vet, the end-to-end files included
	$(STATIC) $(GO) vet ./...
	$(STATIC) $(GO) vet -tags e2e ./test/...

tidy-check: ## Fail when go.mod/go.sum are not tidy
	@cp go.mod /tmp/kubectl-irsa-go.mod.bak && cp go.sum /tmp/kubectl-irsa-go.sum.bak
	@$(GO) mod tidy
	@if ! diff -q go.mod /tmp/kubectl-irsa-go.mod.bak >/dev/null || ! diff -q go.sum /tmp/kubectl-irsa-go.sum.bak >/dev/null; then \
		cp /tmp/kubectl-irsa-go.mod.bak go.mod; cp /tmp/kubectl-irsa-go.sum.bak go.sum; echo "go.mod/go.sum not tidy: run go mod tidy"; exit 1; fi

unit: ## Unit, wire and golden tests; the race detector on the packages that run goroutines
	$(STATIC) $(GO) test -count=1 ./...
	$(GO) test -race -count=1 $(RACE_PKGS)

race: ## Every unit test under the race detector (slower on a cold machine: it compiles the graph again)
	$(GO) test -race -count=1 ./...

# Time per fuzz target in make fuzz, e.g. FUZZTIME=2m (go test's -fuzztime: a
# duration or Nx executions).
FUZZTIME ?= 10s

.PHONY: fuzz
fuzz: ## Run every fuzz target in the repository for FUZZTIME each (default 10s), one at a time; not part of make test
	@set -e; for file in $$(git grep -l --untracked '^func Fuzz' -- '*_test.go'); do \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file"); do \
			echo "$(GO) test -run '^$$' -fuzz '^$$target\$$' -fuzztime $(FUZZTIME) ./$$(dirname "$$file")"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) "./$$(dirname "$$file")"; \
		done; \
	done

k8s-tools: ## Build kube-apiserver, kubectl and etcd once into the versioned cache (first run about 6 minutes)
	@hack/k8s-tools.sh >/dev/null

e2e: k8s-tools ## End-to-end tests: a real kube-apiserver, etcd, the webhook emulator and kubectl dispatching to the plugin
	$(STATIC) $(GO) test -tags e2e -count=1 -timeout 30m ./test/e2e/...

golden: ## Rewrite golden files and docs/checks.md after an intended output change
	$(GO) test ./pkg/plugin -update

docs: golden ## Regenerate docs/checks.md from the code

clean: ## Remove build output
	rm -rf $(BIN) dist

# Sizes and knobs of make bench, e.g. BENCH_FLAGS='-pods 20000 -namespaces 500 -runs 5'
# (bin/kubectl-irsa-bench -h lists them).
BENCH_FLAGS ?=

.PHONY: bench
bench: build k8s-tools ## Synthetic cluster (5,000 pods) on a real API server + AWS emulator: kubectl get pods -A vs kubectl irsa diagnose -A, requests, calls, time, memory (BENCH_FLAGS)
	$(STATIC) $(GO) build -o $(BIN)/kubectl-irsa-bench ./test/bench
	$(BIN)/kubectl-irsa-bench -plugin $(BIN)/kubectl-irsa $(BENCH_FLAGS)

# make bench-large: the 20,000-pod size (issue 18) with its targets: peak RSS
# under 250 MB, growth at most 5 KB a pod from 5,000 to 20,000 pods, fewer
# than 60 AWS calls; -strict makes every target count. The Go benchmarks do not
# depend on the cluster's size: make bench runs them. BENCH_FLAGS are added.
BENCH_LARGE_FLAGS ?= -pods 20000 -namespaces 500 -service-accounts 4000 -roles 1000 -grow-from 5000 -max-rss-mb 250 -max-growth-kb 5 -max-aws-calls 60 -strict -go-bench=false

.PHONY: bench-large
bench-large: build k8s-tools ## make bench at 20,000 pods (500 namespaces, 4,000 service accounts, 1,000 roles): memory at 5,000 and 20,000 pods, growth per pod, AWS calls (takes a while)
	$(STATIC) $(GO) build -o $(BIN)/kubectl-irsa-bench ./test/bench
	$(BIN)/kubectl-irsa-bench -plugin $(BIN)/kubectl-irsa $(BENCH_LARGE_FLAGS) $(BENCH_FLAGS)

.PHONY: demo
demo: ## Real cluster + webhook + AWS emulator on loopback, broken and healthy workloads, kubectl irsa diagnose/thumbprint (first run about 9 minutes)
	@hack/demo.sh

# Release and lint. Tools are pinned in hack/release/tool.sh and built once from
# the Go module proxy into ${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa/tools.
RELEASE_TAG ?= v0.0.0-releasecheck
# The kubectl that runs the installed plugin; empty: the one hack/k8s-tools.sh
# builds, so the check does not depend on what the machine has installed.
KUBECTL     ?=

.PHONY: dist release-check lint

dist: ## Build the 6 release archives into dist/ with goreleaser v2.16.0, from a temporary clone tagged RELEASE_TAG
	$(STATIC) RELEASE_TAG=$(RELEASE_TAG) hack/release/dist.sh

release-check: k8s-tools ## Check dist/ by krew's rules, install it like krew and run `kubectl irsa version` (after make dist)
	$(STATIC) KUBECTL=$(KUBECTL) hack/release/release-check.sh

lint: ## golangci-lint v2 with .golangci.yml (pinned; first run builds it, about 3 minutes)
	@lint="$$(hack/release/tool.sh golangci-lint)" && "$$lint" run ./...
