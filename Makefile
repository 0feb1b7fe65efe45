# streamscout — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_MODULES := node_modules/.package-lock.json
SCOUT := node bin/scout.mjs

.PHONY: help install demo test unit typecheck lint format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(NODE_MODULES): package.json package-lock.json
	@# npm ci refuses this lockfile: npm 11 leaves other platforms' optional binaries out of it.
	npm install --no-audit --no-fund
	@touch $@

install: $(NODE_MODULES) ## install the npm dependencies (only when package-lock.json changed)

demo: $(NODE_MODULES) ## run the demo on the embedded default: generated chat → chat-activity, no servers
	$(SCOUT) demo

test: $(NODE_MODULES) ## the whole suite: type-check, lint, all tests
	$(MAKE) --no-print-directory typecheck lint unit

unit: $(NODE_MODULES) ## the tests only (node:test through tsx)
	node scripts/run-tests.mjs

typecheck: $(NODE_MODULES) ## tsc --noEmit, strict (includes the type-level tests)
	npx tsc --noEmit -p .

lint: $(NODE_MODULES) ## biome lint and format check
	npx biome check .

format: $(NODE_MODULES) ## format the code in place
	npx biome check --write .

bench: $(NODE_MODULES) ## engine benchmark, 5 runs; figures saved under bench/results
	@mkdir -p bench/results
	$(SCOUT) bench engine --runs 5 --json | tee bench/results/engine.json

clean: ## remove runtime data and scratch output
	rm -rf data out
