# Operations (issue 6): rebuild benchmark and the rebuild function run locally.
.PHONY: bench-rebuild rebuild-function

bench-rebuild: $(STAMP) site-vendor
	SITE_VENDOR_DIR=$(SITE_VENDOR_DIR) $(PY) bench/rebuild.py 1000 3000

# Serve the CloudEvent rebuild function on loopback (set FEATURE_REGISTRY_URI and SITE_TARGET first).
rebuild-function: $(STAMP) site-vendor
	$(VENV)/bin/functions-framework --target=on_storage_event --signature-type=cloudevent \
		--source=site_builder/rebuild_function.py --host=127.0.0.1 --port=8090
