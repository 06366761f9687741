# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOXIPROXY_VERSION := v2.5.0
TOXIPROXY := tools/bin/toxiproxy-server

.PHONY: demo test test-fast venv toxiproxy bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## The standard suite against the reference target; reports in reports/demo.
demo: venv
	$(BIN)/paychaos run scenarios/standard --target scenarios/targets/reference.yaml \
		--contract scenarios/contracts/reference.yaml --report-dir reports/demo

## The whole test suite (slow end-to-end suites included). Installs the real
## Toxiproxy server first when Go is available; without it the Toxiproxy half
## of the conformance suite is a visible skip (CI requires it).
test: venv
	-@$(MAKE) --no-print-directory toxiproxy
	$(BIN)/pytest

## Everything but the `slow` suites.
test-fast: venv
	$(BIN)/pytest -m 'not slow'

## The real Toxiproxy server, pinned, built from the Go module proxy into tools/bin.
toxiproxy: $(TOXIPROXY)

$(TOXIPROXY):
	TOXIPROXY_VERSION=$(TOXIPROXY_VERSION) bash scripts/install-toxiproxy.sh

bench: venv
	$(BIN)/python bench/provider_throughput.py
	$(BIN)/python bench/proxy_overhead.py

clean:
	rm -rf $(VENV) reports/* tools/bin .pytest_cache .hypothesis
	@touch reports/.gitkeep
