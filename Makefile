# Targets named as in the Prometheus projects so habits transfer.
GO        ?= go
BINARY    ?= huaweicloud-job-exporter
IMAGE     ?= huaweicloud-job-exporter
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w \
	-X github.com/prometheus/common/version.Version=$(VERSION) \
	-X github.com/prometheus/common/version.Revision=$(REVISION) \
	-X github.com/prometheus/common/version.Branch=$(BRANCH) \
	-X github.com/prometheus/common/version.BuildUser=make \
	-X github.com/prometheus/common/version.BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

.PHONY: all build docker test lint style checkrules checkmetrics bench bench-compare screenshot demo helm-sync

all: style lint test build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) .

# .git is not sent to the Docker daemon (.dockerignore), so the image learns its version from build args.
docker:
	docker build -t $(IMAGE):$(VERSION) -t $(IMAGE):latest \
		--build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) .

# The test command of README.md; .ci/run calls it. simulator/sdkcheck is a module of its own (it holds
# the official Huawei Cloud SDK, which the exporter does not depend on), so ./... does not reach it.
# deploy/helm/chartcheck is one too (k8s.io/api, prometheus-operator): it renders the Helm chart with
# helm built by `go run` and decodes every object. About 4 minutes on a cold 2-CPU machine (modules
# downloaded, helm and k8s.io/api compiled); 122 s with warm Go caches, last measured on a 2-CPU machine
# (the -race run of ./... is most of it). Not re-measured since: the machine was shared and loaded.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	cd simulator/sdkcheck && $(GO) vet ./... && $(GO) test -count=1 ./...
	cd deploy/helm/chartcheck && $(GO) vet ./... && $(GO) test -count=1 ./...

# Copies alerts/*.rules.yml and dashboards/*.json into the Helm chart (Helm cannot read outside it).
# Run after changing either; the chart test fails on drift.
helm-sync:
	cd deploy/helm/chartcheck && $(GO) run ./cmd/helm-sync

# staticcheck is pinned and built by `go run` from the module proxy (no binary to install, no tools
# module); v0.8.2 runs under the go.mod toolchain (Go 1.26). The simulator/sdkcheck and chart modules are
# checked by their own `go vet` in test.
STATICCHECK_VERSION ?= v0.8.2

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

style:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

checkrules:
	scripts/check-rules.sh

checkmetrics: build
	@./$(BINARY) --demo --web.listen-address=127.0.0.1:19867 & pid=$$!; \
	trap 'kill $$pid' EXIT; \
	for i in $$(seq 50); do curl -fs http://127.0.0.1:19867/metrics >/tmp/hje-metrics.txt 2>/dev/null && break; sleep 0.2; done; \
	promtool check metrics < /tmp/hje-metrics.txt

# The figures of README's Performance and Running at scale sections: hjebench (in-process figures, then
# the built exporter as its own process on its shipped defaults, pulled as Prometheus pulls on its
# defaults, at BENCH_SCALE jobs, each also with rate_limit 0 beside it), then the Go benchmarks of the
# /metrics path and the collector's heap. About 10 minutes; 100,000 jobs are opt-in (about 10 more):
# make bench BENCH_SCALE=1000,10000,100000
BENCH_SCALE ?= 1000,10000
bench: build
	$(GO) run ./cmd/hjebench -exporter=./$(BINARY) -scale=$(BENCH_SCALE)
	$(GO) test -run='^$$' -bench=Scrape -benchmem -benchtime=20x ./collector
	$(GO) test -run='^$$' -bench=HeapPerJob -benchmem -benchtime=2x ./collector

# Issue 14's side-by-side figures: the built exporter (on its shipped defaults, and with rate_limit 0
# beside it) and prometheus-community/json_exporter v0.7.0 (built from the Go module proxy by
# scripts/json-exporter.sh, cached) on the same simulated cloud and the same 10,000 jobs. About 6
# minutes; not part of test or .ci/run.
bench-compare: build
	jx=$$(scripts/json-exporter.sh) && \
	$(GO) run ./cmd/hjebench -exporter=./$(BINARY) -json-exporter="$$jx" -only-scale -scale 10000

# Renders the landing page in headless Chromium into docs/landing-page.png.
# The landing page of --demo after its first pulls, for README. It is written beside the tracked
# docs/landing-page.png, never over it: look at it, then move it over the tracked one to update README.
screenshot:
	HJE_SCREENSHOT=$(CURDIR)/docs/landing-page.new.png $(GO) test -count=1 -run 'TestLandingPageFirstMinutes/demo_after' -v ./e2e
	@echo "Wrote docs/landing-page.new.png. Look at it; to use it in README: mv docs/landing-page.new.png docs/landing-page.png"

demo:
	$(GO) run . --demo
