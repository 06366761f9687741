# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOXIPROXY_VERSION := v2.5.0
TOXIPROXY := tools/bin/toxiproxy-server
STRIPE_MOCK_VERSION := v0.203.0
STRIPE11_VERSION := 11.6.1
STRIPE11 := tools/stripe11
STRIPE11_STAMP := $(STRIPE11)/.installed-$(STRIPE11_VERSION)

NODE_SHOP := examples/node_shop
NODE_SHOP_STAMP := $(NODE_SHOP)/node_modules/.installed

.PHONY: demo test test-fast venv toxiproxy stripe-mock stripe-sdk11 node_shop bench clean

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
## Toxiproxy server and stripe-mock first when Go is available, and
## stripe-python 11 beside the venv's; without them the suites that need them
## are visible skips (CI requires them).
test: venv
	-@$(MAKE) --no-print-directory toxiproxy
	-@$(MAKE) --no-print-directory stripe-mock
	-@$(MAKE) --no-print-directory stripe-sdk11
	-@$(MAKE) --no-print-directory node_shop
	$(BIN)/pytest

## Everything but the `slow` suites.
test-fast: venv
	$(BIN)/pytest -m 'not slow'

## The real Toxiproxy server, pinned, built from the Go module proxy into tools/bin.
toxiproxy: $(TOXIPROXY)

$(TOXIPROXY):
	TOXIPROXY_VERSION=$(TOXIPROXY_VERSION) bash scripts/install-toxiproxy.sh

## stripe-mock, pinned, built from the Go module proxy into tools/bin, with the
## OpenAPI spec it serves in tools/stripe-mock. Always runs the script: it
## checks the installed version itself (and says so) in a few milliseconds.
stripe-mock:
	STRIPE_MOCK_VERSION=$(STRIPE_MOCK_VERSION) bash scripts/install-stripe-mock.sh

## stripe-python 11 (it sends booleans as "True"), apart from the venv's newer
## stripe: tests run it in a subprocess with PYTHONPATH=tools/stripe11. The
## venv is an order-only prerequisite: a change to pyproject.toml rebuilds the
## venv, not this.
stripe-sdk11: $(STRIPE11_STAMP)

$(STRIPE11_STAMP): | $(STAMP)
	rm -rf $(STRIPE11)
	$(BIN)/python -m pip install --quiet --target $(STRIPE11) stripe==$(STRIPE11_VERSION)
	@touch $@

## examples/node_shop's one dependency (stripe, as its package-lock.json pins it), from the npm registry.
node_shop: $(NODE_SHOP_STAMP)

$(NODE_SHOP_STAMP): $(NODE_SHOP)/package.json $(NODE_SHOP)/package-lock.json
	npm ci --prefix $(NODE_SHOP) --no-audit --no-fund --loglevel=error
	@touch $@

bench: venv
	-@$(MAKE) --no-print-directory stripe-mock
	$(BIN)/python bench/provider_throughput.py
	$(BIN)/python bench/proxy_overhead.py

clean:
	rm -rf $(VENV) reports/* tools/bin tools/stripe-mock $(STRIPE11) .pytest_cache .hypothesis $(NODE_SHOP)/node_modules
	@touch reports/.gitkeep
