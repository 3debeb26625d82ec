# image_to_vec — every target sets itself up on a fresh machine (.venv + pinned install), then acts.
SHELL := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# demo settings: `make demo` scrapes WGA; `make demo COLLECTION=../shared/data/wikiart_styles11` works offline
OUT        ?= data/demo
LIMIT      ?= 300
EPOCHS     ?= 20
COLLECTION ?=

.PHONY: help install test check nbtest pytest demo docs browser-deps clean

help:
	@echo "make demo   - install, then run the whole pipeline (scrape WGA or COLLECTION=DIR) and search a sample painting"
	@echo "make test   - install, then check notebooks/library sync, run nbdev-test and pytest"
	@echo "make docs   - build the Quarto docs site (needs quarto on PATH)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip -c constraints.txt
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The library must equal what the notebooks export, and the notebooks must be clean.
check: $(STAMP)
	$(BIN)/python .ci/check_sync.py

nbtest: $(STAMP)
	$(BIN)/python .ci/proc_docs.py
	$(BIN)/nbdev-test --n-workers 2

pytest: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q -ra

test: check nbtest pytest

# Headless Chromium for the browser tests (Debian packages; installed when we are root, else the tests skip).
browser-deps:
	@if command -v chromium >/dev/null 2>&1; then true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium + chromium-driver (Debian) for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	    || echo "WARNING: could not install chromium; browser tests will be skipped"; \
	else echo "NOTE: no chromium on PATH (apt-get install chromium chromium-driver); browser tests will be skipped"; fi

demo: $(STAMP)
	@if [ -n "$(COLLECTION)" ]; then \
	  $(BIN)/i2v pipeline --out $(OUT) --catalog $(COLLECTION)/labels.csv --images $(COLLECTION) --epochs $(EPOCHS) --cached-features; \
	else \
	  $(BIN)/i2v pipeline --out $(OUT) --limit $(LIMIT) --epochs $(EPOCHS) --cached-features; \
	fi

docs: $(STAMP)
	$(BIN)/python .ci/proc_docs.py
	@if command -v quarto >/dev/null 2>&1; then $(BIN)/nbdev-docs; \
	else echo "quarto is not on PATH: install it from https://quarto.org/docs/get-started/ then rerun 'make docs'."; \
	     echo "The notebooks were pre-processed into _proc/ (nbdev-proc-nbs) and are ready for quarto."; exit 1; fi

clean:
	rm -rf _proc _docs .pytest_cache
