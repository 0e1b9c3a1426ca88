# Reads at scale (issue 14): the outside Delta Sharing client, in its own venv because its pins
# (pyarrow<=23.0.1, fsspec<=2026.2.0, requests<=2.33.0) differ from ours. tests/client/test_delta_sharing.py
# runs it as a stranger would: HTTP to the signer, a profile file, nothing imported from this repo.
DELTA_SHARING_VERSION := 1.4.2
DELTA_SHARING_VENV := .cache/delta-sharing-venv
DELTA_SHARING_STAMP := $(DELTA_SHARING_VENV)/.installed-$(DELTA_SHARING_VERSION)

.PHONY: delta-sharing-client

$(DELTA_SHARING_STAMP):
	$(PYTHON) -m venv $(DELTA_SHARING_VENV)
	$(DELTA_SHARING_VENV)/bin/python -m pip install --quiet 'delta-sharing==$(DELTA_SHARING_VERSION)'
	touch $@

delta-sharing-client: $(DELTA_SHARING_STAMP)

TEST_PREREQS += delta-sharing-client
