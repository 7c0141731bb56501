# Every target installs what it needs; `make help` lists them.
SHELL := /bin/bash
GO ?= go
TOOLS := $(CURDIR)/.tools
MDATAGEN := $(TOOLS)/mdatagen
GOLANGCI_LINT := $(TOOLS)/golangci-lint
COMPONENT := exporter/pagerdutyexporter

.PHONY: help generate generate-check lint test

help: ## List the targets.
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(MDATAGEN): internal/tools/go.mod
	cd internal/tools && $(GO) build -o $(MDATAGEN) go.opentelemetry.io/collector/cmd/mdatagen

generate: $(MDATAGEN) ## Regenerate the mdatagen code from metadata.yaml.
	cd $(COMPONENT) && $(MDATAGEN) metadata.yaml

generate-check: $(MDATAGEN) ## Regenerate and fail if the generated files (code, documentation.md, README status table) were out of date.
	COMPONENT=$(COMPONENT) MAKE="$(MAKE)" scripts/generate-check.sh

# golangci-lint is pinned in internal/tools/go.mod, like mdatagen.
$(GOLANGCI_LINT): internal/tools/go.mod
	cd internal/tools && $(GO) build -o $(GOLANGCI_LINT) github.com/golangci/golangci-lint/v2/cmd/golangci-lint

lint: $(GOLANGCI_LINT) ## Run golangci-lint (.golangci.yml) over the root module and the bench/ module.
	$(GOLANGCI_LINT) run ./...
	cd bench && $(GOLANGCI_LINT) run ./...

.PHONY: test unit fmt-check pdsim demo live soak
test: fmt-check lint generate-check unit e2e bench-smoke ## Everything CI runs: format check, lint, generated code check, build, vet, unit tests (-race, coverage, short fuzz), end-to-end tests, benchmarks in smoke mode.

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit: ## Build, vet and run the unit tests with -race and coverage of the exporter; a short fuzz run of the mapping.
	$(GO) build ./...
	$(GO) vet ./...
	@mkdir -p _build
	$(GO) test -race -count=1 -coverpkg=./$(COMPONENT)/... -coverprofile=_build/cover.out ./...
	@echo "coverage of $(COMPONENT)/...: $$($(GO) tool cover -func=_build/cover.out | awk '/^total:/ {print $$3}')"
	@# A count, not a duration: Go 1.26's fuzz coordinator can fail a run that
	@# found nothing when a wall-clock -fuzztime ends (golang/go#75804), and an
	@# unbounded minimisation of a large input can hold a worker for a minute.
	$(GO) test -run '^$$' -fuzz FuzzMap -fuzztime 3000x -fuzzminimizetime 50x ./$(COMPONENT)/internal/recordmap/

# The model checks of newest intent at length: the exhaustive one to depth 8
# (8.7 million schedules, about 3 minutes) and the randomized one for
# SOAK_SCHEDULES schedules from SOAK_SEED (about an hour at the default).
SOAK_SCHEDULES ?= 500000
SOAK_SEED ?= 1000000
soak: ## Run the newest-intent model checks at length: exhaustive to depth 8, randomized for SOAK_SCHEDULES schedules from SOAK_SEED.
	NEWEST_INTENT_DEPTH=8 $(GO) test -count=1 -timeout 6h -run TestNewestIntentModelCheck -v ./$(COMPONENT)/internal/dedup/
	NEWEST_INTENT_SEED=$(SOAK_SEED) NEWEST_INTENT_SCHEDULES=$(SOAK_SCHEDULES) $(GO) test -count=1 -timeout 24h -run TestNewestIntentRandomized -v ./$(COMPONENT)/

pdsim: ## Build the local Events API simulator into _build/pdsim.
	$(GO) build -o _build/pdsim ./cmd/pdsim

demo: build pdsim ## Run the demo: simulator + collector on loopback, an alert lifecycle, the incident table.
	scripts/demo.sh

live: build ## Run the collector against the real PagerDuty (needs PAGERDUTY_ROUTING_KEY).
	@test -n "$$PAGERDUTY_ROUTING_KEY" || { echo "set PAGERDUTY_ROUTING_KEY to an Events API v2 integration key" >&2; exit 1; }
	_build/otelcol-pagerduty --config testdata/live.yaml

# --- distribution ---
# Collector distribution built with ocb (go.opentelemetry.io/collector/cmd/builder)
# from builder-config.yaml. Needs only the Go toolchain and the Go module proxy.
BUILDER_VERSION := v0.165.0
BUILDER := $(TOOLS)/builder
BUILDER_CONFIG := builder-config.yaml
DIST_BIN := _build/otelcol-pagerduty

.PHONY: builder build

builder: ## Install the pinned ocb (cmd/builder v0.165.0) into .tools/ if missing or another version.
	@if [ "$$($(GO) version -m $(BUILDER) 2>/dev/null | awk '$$1 == "mod" { print $$3 }')" != "$(BUILDER_VERSION)" ]; then \
		echo "installing go.opentelemetry.io/collector/cmd/builder@$(BUILDER_VERSION) into $(TOOLS)"; \
		rm -f $(BUILDER) && GOBIN=$(TOOLS) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(BUILDER_VERSION); \
	fi

# Always runs: ocb regenerates _build/ and go build is incremental through the build cache,
# so exporter changes are picked up and an unchanged tree relinks quickly.
build: builder ## Build the collector distribution into _build/otelcol-pagerduty with ocb.
	$(BUILDER) --config $(BUILDER_CONFIG)
	@echo "built $(DIST_BIN)"
# --- end distribution ---

# --- end-to-end tests ---
# Without -race: the code under test runs in the collector and simulator
# processes, which the race detector cannot see; it would only instrument the
# test harness, at the price of a slower first compile.
.PHONY: e2e
e2e: build pdsim ## Run the end-to-end tests (e2e/, examples/): real collector + simulator processes on loopback.
	PAGERDUTY_E2E=1 $(GO) test -count=1 -v ./e2e/
	$(BUILDER) --config examples/loadbalancing/builder-config.yaml
	PAGERDUTY_E2E=1 $(GO) test -count=1 ./examples/

# Full-size variants of the load tests: a 100,000-record alert storm, noisy
# bursts of 200 alerts under the rate limit (minutes each: they drain at one
# event per second), 100 requests across a kill -9.
.PHONY: e2e-full
e2e-full: build pdsim ## Run the end-to-end tests at full size (PAGERDUTY_E2E_FULL=1); takes several minutes.
	PAGERDUTY_E2E=1 PAGERDUTY_E2E_FULL=1 $(GO) test -count=1 -v -timeout 30m ./e2e/

# --- benchmarks ---
.PHONY: bench bench-e2e bench-smoke
bench: build pdsim ## Run every benchmark (micro, bench/run.sh, end-to-end load, time to page and the comparisons with a baseline build of an earlier commit) and write BENCHMARKS.md (~10 min).
	scripts/bench.sh

bench-e2e: build pdsim ## Load the built collector and the simulator with cmd/pdload: latency, throughput, CPU, RSS, alert storm, time to page (this tree only; SMOKE=1: tiny sizes).
	$(GO) build -o _build/pdload ./cmd/pdload
	_build/pdload -workdir _build/bench/e2e $(if $(filter 1,$(SMOKE)),-smoke)

bench-smoke: build pdsim ## Every benchmark with tiny sizes, for CI (only checks that they run; report in _build/bench/BENCHMARKS.smoke.md).
	SMOKE=1 scripts/bench.sh
