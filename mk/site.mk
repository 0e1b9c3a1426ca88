# Catalog site (issue 3): vendor the browser scripts the site ships, from npm packages, pinned.
# Nothing is fetched from a CDN: `npm install --prefix` puts the packages in a cache dir, and
# site_builder copies mermaid.min.js / lunr.min.js plus their LICENSE files into every built site.
SITE_VENDOR_DIR ?= .cache/site-vendor
# Pins: site_builder/vendor_pins.txt (the same file setup.py vendors from when a wheel is built).
SITE_MERMAID_VERSION := $(shell awk '$$1=="mermaid"{print $$2}' site_builder/vendor_pins.txt)
SITE_LUNR_VERSION := $(shell awk '$$1=="lunr"{print $$2}' site_builder/vendor_pins.txt)
SITE_VENDOR_STAMP := $(SITE_VENDOR_DIR)/.installed-mermaid-$(SITE_MERMAID_VERSION)-lunr-$(SITE_LUNR_VERSION)

SITE_PORT ?= 8000

.PHONY: site-vendor site site-serve bench-site

$(SITE_VENDOR_STAMP):
	mkdir -p $(SITE_VENDOR_DIR)
	$(PYTHON) -m site_builder.vendor $(SITE_VENDOR_DIR)  # npm install of the pins (what the wheel build runs)
	test -f $(SITE_VENDOR_DIR)/node_modules/mermaid/dist/mermaid.min.js
	test -f $(SITE_VENDOR_DIR)/node_modules/lunr/lunr.min.js
	touch $@

site-vendor: $(SITE_VENDOR_STAMP)

# Build the site from the demo registry ($(DEMO_DIR)/registry, written by `make demo`) into $(DEMO_DIR)/site.
site: $(STAMP) site-vendor
	SITE_VENDOR_DIR=$(SITE_VENDOR_DIR) $(PY) -m site_builder.cli build-site --registry $(DEMO_DIR)/registry --out $(DEMO_DIR)/site

site-serve: site
	$(PY) -m site_builder.cli serve $(DEMO_DIR)/site --host 127.0.0.1 --port $(SITE_PORT)

bench-site: $(STAMP) site-vendor
	SITE_VENDOR_DIR=$(SITE_VENDOR_DIR) $(PY) bench/site_build.py 1000

TEST_PREREQS += site-vendor

# Test-only browser scripts (issue 15): axe-core, which the accessibility tests inject into every
# page kind in Chromium. Its own npm prefix: `npm install --no-save` into the site prefix would
# prune mermaid and lunr. Never copied into a built site.
SITE_TEST_VENDOR_DIR ?= .cache/test-vendor
SITE_AXE_VERSION := 4.14.1
SITE_TEST_VENDOR_STAMP := $(SITE_TEST_VENDOR_DIR)/.installed-axe-core-$(SITE_AXE_VERSION)

.PHONY: site-test-vendor site-screenshots

$(SITE_TEST_VENDOR_STAMP):
	mkdir -p $(SITE_TEST_VENDOR_DIR)
	npm install --silent --no-audit --no-fund --no-save --ignore-scripts --prefix $(SITE_TEST_VENDOR_DIR) \
		axe-core@$(SITE_AXE_VERSION)
	test -f $(SITE_TEST_VENDOR_DIR)/node_modules/axe-core/axe.min.js
	touch $@

site-test-vendor: $(SITE_TEST_VENDOR_STAMP)

TEST_PREREQS += site-test-vendor

# README/docs screenshots of every page kind (docs/img/*.png) from the demo's example registry.
site-screenshots: $(STAMP) site-vendor
	SITE_VENDOR_DIR=$(SITE_VENDOR_DIR) $(PY) bench/site_screenshots.py --out docs/img
