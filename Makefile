# streamscout — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_MODULES := node_modules/.package-lock.json
SCOUT := node bin/scout.mjs

.PHONY: help install demo test unit typecheck lint format bench bench-checkpoint bench-kafka clean services-up services-down

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(NODE_MODULES): package.json package-lock.json
	@# npm ci refuses this lockfile: npm 11 leaves other platforms' optional binaries out of it.
	npm install --no-audit --no-fund
	@touch $@

install: $(NODE_MODULES) ## install the npm dependencies (only when package-lock.json changed)

demo: $(NODE_MODULES) ## the demo on the embedded default: generated chat → highlights → clips on http://127.0.0.1:8080
	$(SCOUT) demo

test: $(NODE_MODULES) ## the whole suite: type-check, lint, all tests (starts the test services)
	$(MAKE) --no-print-directory typecheck lint unit

# The services are started once here and handed to every test file through TEST_DATABASE_URL, TEST_S3_*,
# TEST_KAFKA_BROKERS, TEST_REGISTRY_URL, TEST_AVRO_CONSUMER and CHROMIUM_PATH; a test file run on its own starts them itself (test/services.ts). The output is
# kept in a variable first because `eval "$(…)"` would succeed even when the script fails.
unit: $(NODE_MODULES) ## the tests only (node:test through tsx), after starting the test services
	services_env="$$(scripts/services up)" && eval "$$services_env" && node scripts/run-tests.mjs

services-up: ## start the local test services (Postgres, MinIO, Kafka, schema registry; checks Chromium, the Avro consumer); prints their env
	@scripts/services up

services-down: ## stop the local test services
	@scripts/services down

typecheck: $(NODE_MODULES) ## tsc --noEmit, strict (includes the type-level tests)
	npx tsc --noEmit -p .

lint: $(NODE_MODULES) ## biome lint and format check
	npx biome check .

format: $(NODE_MODULES) ## format the code in place
	npx biome check --write .

bench: $(NODE_MODULES) ## engine benchmark, 5 runs; figures saved under bench/results
	@mkdir -p bench/results
	$(SCOUT) bench engine --runs 5 --json | tee bench/results/engine.json

bench-checkpoint: $(NODE_MODULES) ## checkpoint benchmark, 1,000,000 keys; figures saved under bench/results
	@mkdir -p bench/results
	$(SCOUT) bench checkpoint --json | tee bench/results/checkpoint.json

# The broker and the registry come from scripts/services, as for the tests (see `unit`).
bench-kafka: $(NODE_MODULES) ## Kafka benchmark, 1,000,000 messages, both drivers; figures saved under bench/results
	@mkdir -p bench/results
	services_env="$$(scripts/services up kafka registry)" && eval "$$services_env" && \
	  $(SCOUT) bench kafka --kafka $$TEST_KAFKA_BROKERS --registry $$TEST_REGISTRY_URL --json | tee bench/results/kafka.json

clean: ## remove runtime data and scratch output
	rm -rf data out
