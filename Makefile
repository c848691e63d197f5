# fuelplan's build. `make test` is what CI runs; see README.md.
GO          ?= go
BIN         ?= bin/fuelplan
STATICCHECK_VERSION ?= v0.8.2
GOBIN       ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK ?= $(GOBIN)/staticcheck
FUZZTIME    ?= 15s
# Minimizing a new input takes 60 s per input by default, which left the
# fuzzers no time to run (FuzzParse made 40 executions a minute); 1 s
# leaves the time to executions. FUZZPARALLEL workers share the machine.
FUZZMINIMIZETIME ?= 1s
FUZZPARALLEL     ?= 1
BENCHTIME   ?= 1x

.PHONY: all build test vet lint unit bench fuzz demo tools fmt clean e2e-real

all: build

build:
	$(GO) build -o $(BIN) ./cmd/fuelplan

tools: $(STATICCHECK)

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

lint: tools
	$(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 ./...

test: vet lint unit

# The end-to-end suite (package e2e) against a real cloud: OS_CLOUD from
# the clouds.yaml the openstack CLI would read (OS_CLIENT_CONFIG_FILE), and
# a member (non-admin) entry for the member scenario. The defaults are
# ../shared/realcloud's. `make unit` runs the same scenarios on the
# simulated cloud. See README.md, "End-to-end suite".
E2E_CLOUD        ?= admin
E2E_MEMBER_CLOUD ?= demo
E2E_TIMEOUT      ?= 30m
# The preflight real-cloud tests (quotas; keypair and trunk limits, the
# microversion, trunk MTUs) each create a project of their own (and delete it):
# they need an admin entry. FUELPLAN_TEST_ADMIN_CLOUD= (empty) skips them.
E2E_ADMIN_CLOUD  ?= admin

# Both suites run, also when the first fails; the target fails if either did.
e2e-real:
	@rc=0; \
	FUELPLAN_TEST_ADMIN_CLOUD=$${FUELPLAN_TEST_ADMIN_CLOUD-$(E2E_ADMIN_CLOUD)} \
	  $(GO) test -count=1 -v -timeout 5m -run '^TestRealCloud(Quotas|Limits)$$' ./preflight/ || rc=1; \
	FUELPLAN_E2E=1 OS_CLOUD=$${OS_CLOUD:-$(E2E_CLOUD)} \
	  FUELPLAN_E2E_MEMBER_CLOUD=$${FUELPLAN_E2E_MEMBER_CLOUD-$(E2E_MEMBER_CLOUD)} \
	  $(GO) test -count=1 -v -parallel 4 -timeout $(E2E_TIMEOUT) -run '^TestReal$$' ./e2e/ || rc=1; \
	exit $$rc

# Benchmarks hold the speed and memory targets; see README "Performance".
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# A run of every fuzz target, one after the other (go test -fuzz takes one
# target at a time); each prints its executions. Findings are written to
# the package's testdata/fuzz/TARGET/, where `go test` replays them.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) \
	      -parallel $(FUZZPARALLEL) $$pkg; \
	  done; done

# The Fuel lab of examples/fuel-lab.yaml on the built-in simulated cloud:
# apply, a second plan that finds nothing to do, destroy.
demo: build
	FUELPLAN=$(BIN) scripts/demo.sh

clean:
	rm -rf bin
