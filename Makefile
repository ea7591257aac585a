# Farewatch: `make dev` runs the whole stack locally; `make test` runs every check CI runs before SAM.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
CHECKS_VENV := .venv-checks
PY := $(VENV)/bin/python
# The layer, the functions, the local stack and the tools, importable the way Lambda and the tests see them.
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)/functions/price:$(CURDIR)/functions/users:$(CURDIR)/functions/poller:$(CURDIR)/functions/web:$(CURDIR)/functions/notifier:$(CURDIR)/local:$(CURDIR)
PIP_QUIET := --quiet --disable-pip-version-check

# The web app (web/): npm packages from the lockfile, bundled by esbuild into what WebFunction serves.
NPM ?= npm
WEB_PUBLIC := functions/web/web_site/public
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/build.mjs web/tsconfig.json
# Debian's Chromium for the browser tests (tests/browser); `make test` installs it when run as root.
CHROMIUM ?= /usr/bin/chromium
APT_GET := apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3
SCREENSHOTS_SAID := if ls tests/browser/out/*.png >/dev/null 2>&1; then echo "browser screenshots: $(CURDIR)/tests/browser/out"; fi

.PHONY: grant-admin openapi dev dev-reset sam-local-test test lint typecheck unit integration e2e browser bench load security template-check sam-validate sam-build clean web web-check chromium

# Each virtualenv is made once, then again only when its requirements change; each step says what it does.
$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11+ is required")'
	@echo "setup: $(VENV): the project's pinned packages (requirements-dev.txt; about a minute the first time)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install $(PIP_QUIET) --upgrade pip
	@$(PY) -m pip install $(PIP_QUIET) -r requirements-dev.txt
	@echo "setup: $(VENV) is ready ($$($(PY) -m pip list --disable-pip-version-check 2>/dev/null | tail -n +3 | wc -l) packages)"
	@touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	@echo "setup: $(SAM_VENV): the SAM CLI, in a virtualenv of its own (requirements-sam.txt)"
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/python -m pip install $(PIP_QUIET) -r requirements-sam.txt
	@echo "setup: $(SAM_VENV) is ready"
	@touch $@

$(CHECKS_VENV)/.installed: requirements-checks.txt
	@echo "setup: $(CHECKS_VENV): checkov and bandit, in a virtualenv of their own (requirements-checks.txt)"
	@test -x $(CHECKS_VENV)/bin/python || $(PYTHON) -m venv $(CHECKS_VENV)
	@$(CHECKS_VENV)/bin/python -m pip install $(PIP_QUIET) -r requirements-checks.txt
	@echo "setup: $(CHECKS_VENV) is ready"
	@touch $@

web/node_modules/.installed: web/package.json web/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "make: npm is required to build the web app (Node.js 20+)"; exit 1; }
	cd web && $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB_PUBLIC)/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && $(NPM) run --silent build

# Build the page and its hashed assets into $(WEB_PUBLIC) (make dev, make test and make sam-build do).
web: $(WEB_PUBLIC)/index.html

# The web app's own checks: TypeScript's, and its unit tests (node --test).
web-check: web/node_modules/.installed
	cd web && $(NPM) run --silent typecheck
	cd web && $(NPM) run --silent test

# Chromium for the browser tests: installed from Debian when missing and we are root (CI is);
# otherwise the browser tests say what is missing and skip (they fail under CI=true).
chromium:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  for attempt in 1 2 3; do $(APT_GET) update -qq && break; sleep 10; done; \
	  DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq chromium >/dev/null; \
	else echo "make: $(CHROMIUM) is missing and only root can install it: the browser tests will skip"; fi

# The whole stack in the foreground; its data is kept in .farewatch/ (FAREWATCH_DATA_DIR) across restarts.
dev: $(VENV)/.installed web
	@$(PY) -m farewatch_local

# The same, starting from empty: forgets the tables, queues and secrets `make dev` kept.
dev-reset: $(VENV)/.installed
	@$(PY) -m farewatch_local --reset

# Operator command: the only way to make someone an admin. Local stack by default; STACK=<name> for AWS.
grant-admin: $(VENV)/.installed
	@test -n "$(EMAIL)" || { echo "usage: make grant-admin EMAIL=alice@example.com [STACK=farewatch-dev REGION=eu-west-1] [REVOKE=1]"; exit 2; }
	@$(PY) -m tools.admin grant-admin "$(EMAIL)" $(if $(REVOKE),--revoke) $(if $(STACK),--stack "$(STACK)" $(if $(REGION),--region "$(REGION)"),--local)

# The API's one OpenAPI document, merged from every function's routes; a test fails when it is stale.
openapi: $(VENV)/.installed
	@$(PY) -m tools.openapi_document

lint: $(VENV)/.installed
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

unit: $(VENV)/.installed
	$(VENV)/bin/pytest tests/unit

integration: $(VENV)/.installed web
	$(VENV)/bin/pytest tests/integration

e2e: $(VENV)/.installed web
	$(VENV)/bin/pytest tests/e2e

# The journey in Chromium on the make dev stack; screenshots land in tests/browser/out/.
browser: $(VENV)/.installed web chromium
	$(VENV)/bin/pytest tests/browser
	@$(SCREENSHOTS_SAID)

# loadgroup: the browser tests share one worker (one stack, one Chromium) while the other worker goes on.
test: lint typecheck template-check web-check $(VENV)/.installed web chromium
	$(VENV)/bin/pytest -n 2 --dist loadgroup tests
	@$(SCREENSHOTS_SAID)

bench: $(VENV)/.installed sam-build
	$(PY) -m bench

# The local stack under 20 concurrent clients for 60 s (CLIENTS=, DURATION= to change): figures, not pass/fail.
load: $(VENV)/.installed
	$(PY) -m bench.load $(if $(CLIENTS),--clients $(CLIENTS)) $(if $(DURATION),--seconds $(DURATION))

# Static security checks: checkov on the template (findings fixed or skipped with a reason in the
# resource's Metadata), bandit on our code (medium and high severity fail; `# nosec BXXX` needs a reason).
security: $(CHECKS_VENV)/.installed
	PYTHONPATH= $(CHECKS_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download
	PYTHONPATH= $(CHECKS_VENV)/bin/bandit --quiet --recursive --severity-level medium layers functions local bench tools

# template.yaml through the SAM CLI's own translator, then rules on the CloudFormation a deploy would submit
# (tests/template): no reserved concurrency, one API stage, log retention, user data retained, no secret
# from a parameter... The project's pytest run leaves tests/template to this target (it needs the SAM CLI).
template-check: $(SAM_VENV)/.installed
	PYTHONPATH= $(SAM_VENV)/bin/pytest -p no:cacheprovider tests/template

sam-validate: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam validate --lint --region us-east-1

# No container: SAM's python builder needs a python3.11 on PATH, which the project venv provides.
sam-build: $(SAM_VENV)/.installed $(VENV)/.installed web
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(SAM_VENV)/bin/sam build --region us-east-1

# `sam local` for real: the functions in Lambda containers (Docker inside a network namespace the test
# makes) against the local stack's AWS and simulator through env.json, and a smoke suite through them.
# Needs root; installs docker.io and debootstrap from Debian if they are missing.
sam-local-test: sam-build
	@$(PY) -m tests.sam_local

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache $(WEB_PUBLIC) web/.test-build tests/browser/out
