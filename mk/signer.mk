# Signer (issue 4): run it locally beside the site for `make demo`, and benchmark it.
# `signer_function.demo start` launches a background process (local S3 server with an example
# table, the signer under functions-framework with dev tokens) that stops by itself after 2 h or
# with `make signer-stop`, then prints a copy-paste DuckDB snippet reading the signed table.
SIGNER_PORT ?= 8089

.PHONY: signer-demo signer-stop bench-signer

signer-demo: $(STAMP)
	$(PY) -m signer_function.demo start --dir $(DEMO_DIR) --port $(SIGNER_PORT)

signer-stop:
	$(PY) -m signer_function.demo stop --dir $(DEMO_DIR)

bench-signer: $(STAMP)
	$(PY) bench/signer.py

