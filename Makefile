# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SYSSTAMP := .services/.system-deps-stamp

.PHONY: demo test bench bench-quick bench-history lint venv system-deps clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	$(BIN)/python -c 'from seamline.planning.balance.ipbs import warm_compiled; warm_compiled()'
	touch $(STAMP)

venv: $(STAMP)

$(SYSSTAMP): scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	mkdir -p .services && touch $(SYSSTAMP)

system-deps: $(SYSSTAMP)

demo: venv
	$(BIN)/seamline demo

# Tests run in TEST_WORKERS processes (pytest-xdist). Many wait on real time (a Modbus trace replayed at
# wall speed, brokers and servers starting), so two processes on two cores take about 16 minutes
# where one took about 26 (2,066 tests, measured 2026-12-07). Each process starts its own Mosquitto
# and PostgreSQL on free ports (tests/conftest.py). TEST_WORKERS=0 runs them in this process.
# Tests marked `serial` depend on having the cores: one compares two timed searches, one needs the
# ingest processes' commit skew under the 3-s reorder wait; so they run afterwards, alone (exit 5 =
# PYTEST_ARGS selected none of them).
TEST_WORKERS ?= 2

test: venv system-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not serial" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m serial $(PYTEST_ARGS) || test $$? -eq 5

# Every bench/*.py with a main (helpers are named _*.py) runs in turn; each prints its figures and,
# last, one JSON object. `make bench` uses each benchmark's default size (about 35 minutes in all,
# measured 2026-12-06); `make bench-quick` passes --quick, each at its smallest size (about 4 minutes).
# A benchmark added under bench/ joins both targets by itself; it must accept --quick.
# STUDIES are the A/B tools run by hand with arguments (each docstring says how): an arm to
# compare, start plans, a bench to wrap. They have no default size, so neither target runs them.
STUDIES = bench/alwabp_paired.py bench/alwabp_scaling.py bench/balance_order.py bench/balance_repack.py \
	bench/balance_walk.py bench/shop_det_ab.py bench/with_policy_flags.py
BENCHES = $(filter-out bench/_% $(STUDIES),$(wildcard bench/*.py))
BENCH_FLAGS ?=

bench: venv system-deps
	@set -e; for b in $(BENCHES); do \
	  if grep -q '__name__ == "__main__"' $$b; then \
	    flags="$(BENCH_FLAGS)"; [ $$b = bench/history.py ] && flags=--quick; \
	    echo "== $$b $$flags"; start=$$(date +%s); \
	    $(BIN)/python $$b $$flags || { echo "!! $$b failed"; exit 1; }; \
	    echo "== $$b took $$(( $$(date +%s) - start )) s"; \
	  fi; \
	done

bench-quick:
	@$(MAKE) --no-print-directory bench BENCH_FLAGS=--quick

# Cost against history (issue #19) at the issue's sizes: builds 100k/1M/>=3M-event stores once
# (cached in bench/.cache/), then measures. `make bench` runs bench/history.py at its quick sizes.
bench-history: venv system-deps
	$(BIN)/python bench/history.py $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) .services data test-artifacts
