# Two commands on a fresh machine: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR := .demo
TEST_PREREQS :=

# Areas contribute targets through mk/*.mk and append to TEST_PREREQS (what `make test` and
# `make demo` need installed first, e.g. the vendored browser scripts).
-include mk/*.mk

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The example registry end to end: local S3 server + signer, example tables, publish, list,
# build the catalog site and serve it on 127.0.0.1:8000 (Ctrl-C stops it).
# Ports: `make demo PORT=8001 SIGNER_PORT=8090` (a busy port is reported before any work starts).
PORT ?= 8000
SIGNER_PORT ?= 8089
demo: $(STAMP) $(TEST_PREREQS)
	SITE_VENDOR_DIR=$(SITE_VENDOR_DIR) $(PY) -m feature_registry.demo --dir $(DEMO_DIR) --port $(PORT) --signer-port $(SIGNER_PORT)

test: $(STAMP) $(TEST_PREREQS)
	$(PY) -m pytest -q -ra

bench: $(STAMP) $(TEST_PREREQS)
	$(PY) bench/inspect_tables.py
	$(PY) bench/signer.py
	$(PY) bench/catalog_client.py
	SITE_VENDOR_DIR=$(SITE_VENDOR_DIR) $(PY) bench/site_build.py 1000

clean:
	rm -rf $(VENV) $(DEMO_DIR) site build *.egg-info
