# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SYSSTAMP := .services/.system-deps-stamp

.PHONY: demo test bench bench-history lint venv system-deps clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

$(SYSSTAMP): scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	mkdir -p .services && touch $(SYSSTAMP)

system-deps: $(SYSSTAMP)

demo: venv
	$(BIN)/seamline demo

test: venv system-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Each benchmark prints its figures; the last line of each is one JSON object.
bench: venv system-deps
	$(BIN)/python bench/ingest.py
	@for b in bench/planning.py bench/learning.py bench/dispatch.py; do \
	  if [ -f $$b ]; then echo "== $$b"; $(BIN)/python $$b || exit 1; fi; \
	done

# Cost against history (issue #19): builds 100k/1M/3M-event stores once (bench/.cache/), then measures.
bench-history: venv system-deps
	$(BIN)/python bench/history.py $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) .services data test-artifacts
