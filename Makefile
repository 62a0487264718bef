# The user's verbs. `make` alone lists them.
# Only Node 20+ and npm are needed: pnpm is installed at a pinned version into .tools/
# (corepack is not used: it fails on machines without its signing keys).
#
# Database: every verb takes one admin DATABASE_URL (a superuser or the database
# owner), by default the embedded development database in .dev/postgres. Services
# connect as their own role (derived from it), never as the admin.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PNPM_VERSION := 10.34.9
PNPM := .tools/node_modules/.bin/pnpm
# turbo looks pnpm up on PATH.
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)
INSTALLED := node_modules/.install-stamp
OPS := node packages/ops/dist/cli.js

# What users type (svc=, msg=, steps=, custom=, name=, port=, user=) reaches ops as OPS_*
# environment variables holding exactly that text: $(value) with := keeps make from
# expanding it, unexport keeps the raw variables out of recipes, and no recipe line
# mentions them, so no shell ever parses them either.
export OPS_SVC := $(value svc)
export OPS_MSG := $(value msg)
export OPS_STEPS := $(value steps)
export OPS_CUSTOM := $(value custom)
export OPS_NAME := $(value name)
export OPS_PORT := $(value port)
export OPS_USER := $(value user)
unexport svc msg steps custom name port user
# Other command-line variables (DATABASE_URL=..., PORT=...) would be exported
# expanded, `$` and all; export their literal text instead.
$(foreach v,$(filter-out svc msg steps custom name port user,$(.VARIABLES)),$(if $(filter command line,$(origin $(v))),$(eval override export $(v) := $$(value $(v)))))

# Runs turbo's (cached) build for the given filters; prints its output only if it fails.
# Several `make run` started at once would otherwise all rebuild the same dist/ files
# after an edit, one of them rewriting a bundle another is starting: with flock
# (util-linux) they take turns, and all but the first find turbo's cache warm.
LOCK_BUILD := $(shell command -v flock >/dev/null 2>&1 && echo 'flock .tools/build.lock')
build_quietly = out=$$($(LOCK_BUILD) $(PNPM) turbo run build --output-logs=errors-only $(1) 2>&1) \
	|| { printf '%s\n' "$$out" >&2; echo "build failed" >&2; exit 1; }
DOCKER_UP = docker info >/dev/null 2>&1
COMPOSE = $(shell docker compose version >/dev/null 2>&1 && echo 'docker compose' || echo docker-compose)

.PHONY: help install build build-ops build-stack dev start-db stop clean bootstrap migrate add-migration \
	status rollback check run new-service admin test lint typecheck format bench

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(PNPM):
	@echo "installing pnpm $(PNPM_VERSION) into .tools/"
	@npm install --prefix .tools --no-audit --no-fund --loglevel=error pnpm@$(PNPM_VERSION) >/dev/null

$(INSTALLED): $(PNPM) package.json pnpm-lock.yaml pnpm-workspace.yaml $(wildcard */package.json packages/*/package.json services/*/package.json)
	$(PNPM) install --frozen-lockfile
	@touch $@

install: $(INSTALLED) ## Install pnpm and every dependency

build: $(INSTALLED) ## Compile every package and service
	$(PNPM) turbo run build

build-ops: $(INSTALLED)
	@$(call build_quietly,--filter=@app/ops)

build-stack: $(INSTALLED)
	@$(call build_quietly,--filter=@app/ops '--filter=./services/*')

dev: build-stack ## The whole stack without Docker: embedded PostgreSQL (or DATABASE_URL), auth 5008, billing 5009
	@$(OPS) dev

start-db: ## docker compose up: postgres, adminer on 8080, auth on 5008, billing on 5009
	@$(DOCKER_UP) || { echo "start-db: no Docker engine is reachable (docker info failed); make dev runs the whole stack without Docker" >&2; exit 1; }
	$(COMPOSE) up -d --build
	@echo "adminer http://localhost:8080   auth http://localhost:5008/docs   billing http://localhost:5009/docs"
	@echo "admin DATABASE_URL for the make verbs (default password): postgres://postgres:postgres@localhost:5432/app"

stop: ## Stop the docker-compose stack (data kept) and any leftover embedded database
	@if $(DOCKER_UP); then $(COMPOSE) down; else echo "stop: no Docker engine is reachable: no docker-compose stack to stop"; fi
	@$(call stop_embedded,stop)

clean: ## Delete dev data: the docker-compose postgres volume and .dev/ (embedded database, dev secrets)
	@if $(DOCKER_UP); then echo "clean: removing the docker-compose containers and the postgres volume"; $(COMPOSE) down --volumes; \
	else echo "clean: no Docker engine is reachable: no docker-compose volume to remove"; fi
	@$(call stop_embedded,clean)
	@dir="$${DEV_DB_DIR:-.dev/postgres}"; \
	if [ ! -e "$$dir" ]; then echo "clean: $$dir does not exist: no embedded development data to remove"; \
	elif [ -f "$$dir/PG_VERSION" ]; then echo "clean: removing $$dir (the embedded development database, all its data)"; rm -rf "$$dir"; \
	else echo "clean: $$dir is not a PostgreSQL data directory: left alone" >&2; exit 1; fi
	@dir="$${DEV_SECRETS_DIR:-.dev/secrets}"; \
	if [ -d "$$dir" ]; then echo "clean: removing $$dir (development-only secrets: auth's signing key)"; rm -rf "$$dir"; fi
	@rmdir .dev 2>/dev/null || true

# Stops an embedded dev database left running (e.g. after make dev was killed): fast shutdown.
stop_embedded = dir="$${DEV_DB_DIR:-.dev/postgres}"; pid=$$(head -1 "$$dir/postmaster.pid" 2>/dev/null); \
	if [ -n "$$pid" ] && kill -0 "$$pid" 2>/dev/null; then \
	  echo "$(1): stopping the embedded development database (pid $$pid, $$dir)"; kill -INT "$$pid"; \
	  while kill -0 "$$pid" 2>/dev/null; do sleep 0.2; done; \
	else echo "$(1): no embedded development database is running"; fi

bootstrap: build-ops ## Create each service's role and schema on DATABASE_URL (idempotent)
	@$(OPS) bootstrap

migrate: build-ops ## Apply pending migrations now: make migrate svc=<service>
	@$(OPS) migrate

add-migration: build-ops ## Generate a migration and its down SQL: make add-migration svc=<service> msg="what" [custom=1|custom=no-transaction]
	@[ -n "$$OPS_MSG" ] || { echo 'error: msg is required: make add-migration svc=<service> msg="what it changes"' >&2; exit 2; }
	@$(OPS) add-migration

status: build-ops ## Every migration, applied or pending: make status svc=<service>
	@$(OPS) status

rollback: build-ops ## Undo the last migrations with their down SQL: make rollback svc=<service> steps=1
	@$(OPS) rollback

check: build-ops ## Check every service's migrations (isolation, down SQL, models in sync)
	@$(OPS) check

run: build-stack ## One instance in the foreground on PORT: make run svc=<service> [PORT=5018]
	@$(OPS) run

admin: build-ops ## Give a user auth's admin role (scopes at their next login): make admin user=<username>
	@$(OPS) admin

new-service: build-ops ## Create a service from the template (schema, migration, routes, tests, compose, k8s): make new-service name=<name> [port=<port>]
	@$(OPS) new-service

test: $(INSTALLED) ## Run every test (TEST_DATABASE_URL, or an embedded PostgreSQL)
	@scripts/ensure-test-tools.sh
	$(PNPM) turbo run test --filter='!@app/drills'
	@# The drills load real replicas and time them against a load balancer: they run
	@# alone, after everything else, or a 2-core machine starves them into false failures.
	$(PNPM) turbo run test --filter=@app/drills

lint: $(INSTALLED) ## Check formatting and lint rules (Biome)
	$(PNPM) biome check .

typecheck: $(INSTALLED) ## Type-check every package and service
	$(PNPM) turbo run typecheck

format: $(INSTALLED) ## Rewrite files to the project's format
	$(PNPM) biome check --write .

bench: $(INSTALLED) ## Benchmarks (migrations, startup, HTTP, login rate limit), written to bench/results/
	@scripts/ensure-test-tools.sh pgbouncer redis-server
	@if [ -f bench/package.json ] && grep -q '"bench":' bench/package.json; then \
	  $(call build_quietly,) && $(PNPM) --filter ./bench run bench; \
	else echo "bench: no benchmarks yet (bench/ has no bench script)"; fi
