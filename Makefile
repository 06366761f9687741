# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOXIPROXY_VERSION := v2.5.0
TOXIPROXY := tools/bin/toxiproxy-server

NODE_SHOP := examples/node_shop
NODE_SHOP_STAMP := $(NODE_SHOP)/node_modules/.installed

.PHONY: demo test test-fast venv toxiproxy node_shop bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## The standard suite against the reference target; reports in reports/demo.
demo: venv
	$(BIN)/paychaos run scenarios/standard --target scenarios/targets/reference.yaml \
		--contract scenarios/contracts/reference.yaml --seed 1 --report-dir reports/demo

## The whole test suite (slow end-to-end suites included). Installs the real
## Toxiproxy server first when Go is available; without it the Toxiproxy half
## of the conformance suite is a visible skip (CI requires it).
test: venv
	-@$(MAKE) --no-print-directory toxiproxy
	-@$(MAKE) --no-print-directory node_shop
	$(BIN)/pytest

## Everything but the `slow` suites.
test-fast: venv
	$(BIN)/pytest -m 'not slow'

## The real Toxiproxy server, pinned, built from the Go module proxy into tools/bin.
toxiproxy: $(TOXIPROXY)

$(TOXIPROXY):
	TOXIPROXY_VERSION=$(TOXIPROXY_VERSION) bash scripts/install-toxiproxy.sh

## examples/node_shop's one dependency (stripe, as its package-lock.json pins it), from the npm registry.
node_shop: $(NODE_SHOP_STAMP)

$(NODE_SHOP_STAMP): $(NODE_SHOP)/package.json $(NODE_SHOP)/package-lock.json
	npm ci --prefix $(NODE_SHOP) --no-audit --no-fund --loglevel=error
	@touch $@

bench: venv
	$(BIN)/python bench/provider_throughput.py
	$(BIN)/python bench/proxy_overhead.py

clean:
	rm -rf $(VENV) reports/* tools/bin .pytest_cache .hypothesis $(NODE_SHOP)/node_modules
	@touch reports/.gitkeep
