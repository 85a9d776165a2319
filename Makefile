# Baton: the two set-up commands are `make run` and `make test`.
SWIFT ?= swift
BATOND_ARGS ?= --agreements deploy/examples/agreements.yaml --example-tokens

.PHONY: fuzz setup build run test bench clean-data

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build --product batond

# Builds, then runs batond: on the embedded cluster in .baton/postgres unless DATABASE_URL
# is set. Ctrl-C stops batond and the cluster it started.
run: build
	@exec "$$($(SWIFT) build --show-bin-path)/batond" serve $(BATOND_ARGS)

test: setup
	$(SWIFT) test

# Release-build benchmarks; prints figures and ratios against baselines measured in the same run.
# The HTTP benchmarks load batond with wrk (installed if missing and possible), else with an
# in-process Swift client.
bench: setup
	@command -v wrk >/dev/null 2>&1 || scripts/setup.sh wrk || echo "bench: wrk is not installed; the HTTP load comes from an in-process Swift client" >&2
	$(SWIFT) run -c release baton-bench
	$(SWIFT) run -c release baton-domain-bench
	$(SWIFT) run -c release baton-api-bench

# Fuzzes the API from its own openapi.yaml with schemathesis (installed with pip if missing).
fuzz: setup
	bash scripts/fuzz.sh

# Deletes the embedded cluster's data (stop batond first).
clean-data:
	rm -rf .baton
