# Two commands on a fresh machine: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR := .demo
TEST_PREREQS :=
DEMO_STEPS :=

# Areas contribute targets through mk/*.mk: they append to TEST_PREREQS (targets `make test`
# needs) and DEMO_STEPS (commands `make demo` runs after publishing the example registry).
-include mk/*.mk

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) $(TEST_PREREQS)
	$(PY) -m registry.demo --dir $(DEMO_DIR)
	$(foreach step,$(DEMO_STEPS),$(step) &&) true

test: $(STAMP) $(TEST_PREREQS)
	$(PY) -m pytest -q -ra

bench: $(STAMP)
	$(PY) bench/inspect.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) site build *.egg-info
