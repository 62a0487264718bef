# The user's verbs. `make` alone lists them.
# Only Node 20+ and npm are needed: pnpm is installed at a pinned version into .tools/
# (corepack is not used: it fails on machines without its signing keys).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PNPM_VERSION := 10.34.9
PNPM := .tools/node_modules/.bin/pnpm
# turbo looks pnpm up on PATH.
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)
INSTALLED := node_modules/.install-stamp

.PHONY: help install build test lint typecheck format

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(PNPM):
	@echo "installing pnpm $(PNPM_VERSION) into .tools/"
	@npm install --prefix .tools --no-audit --no-fund --loglevel=error pnpm@$(PNPM_VERSION) >/dev/null

$(INSTALLED): $(PNPM) package.json pnpm-lock.yaml pnpm-workspace.yaml $(wildcard packages/*/package.json services/*/package.json)
	$(PNPM) install --frozen-lockfile
	@touch $@

install: $(INSTALLED) ## Install pnpm and every dependency

build: $(INSTALLED) ## Compile every package and service
	$(PNPM) turbo run build

test: $(INSTALLED) ## Run every test (TEST_DATABASE_URL, or an embedded PostgreSQL)
	$(PNPM) turbo run test

lint: $(INSTALLED) ## Check formatting and lint rules (Biome)
	$(PNPM) biome check .

typecheck: $(INSTALLED) ## Type-check every package and service
	$(PNPM) turbo run typecheck

format: $(INSTALLED) ## Rewrite files to the project's format
	$(PNPM) biome check --write .
