# Farewatch: `make dev` runs the whole stack locally; `make test` runs every check CI runs before SAM.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
CHECKS_VENV := .venv-checks
PY := $(VENV)/bin/python
# The layer, the functions and the local stack, importable the way Lambda and the tests see them.
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)/functions/price:$(CURDIR)/functions/users:$(CURDIR)/functions/poller:$(CURDIR)/local
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: grant-admin dev dev-reset sam-local-test test lint typecheck unit integration e2e bench load security sam-validate sam-build clean

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

# The whole stack in the foreground; its data is kept in .farewatch/ (FAREWATCH_DATA_DIR) across restarts.
dev: $(VENV)/.installed
	@$(PY) -m farewatch_local

# The same, starting from empty: forgets the tables, queues and secrets `make dev` kept.
dev-reset: $(VENV)/.installed
	@$(PY) -m farewatch_local --reset

# Operator command: the only way to make someone an admin. Local stack by default; STACK=<name> for AWS.
grant-admin: $(VENV)/.installed
	@test -n "$(EMAIL)" || { echo "usage: make grant-admin EMAIL=alice@example.com [STACK=farewatch-dev REGION=eu-west-1] [REVOKE=1]"; exit 2; }
	@$(PY) -m farewatch.admin_cli grant-admin "$(EMAIL)" $(if $(REVOKE),--revoke) $(if $(STACK),--stack "$(STACK)" $(if $(REGION),--region "$(REGION)"),--local)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

unit: $(VENV)/.installed
	$(VENV)/bin/pytest tests/unit

integration: $(VENV)/.installed
	$(VENV)/bin/pytest tests/integration

e2e: $(VENV)/.installed
	$(VENV)/bin/pytest tests/e2e

test: lint typecheck $(VENV)/.installed
	$(VENV)/bin/pytest -n 2 tests

bench: $(VENV)/.installed sam-build
	$(PY) -m bench

# The local stack under 20 concurrent clients for 60 s (CLIENTS=, DURATION= to change): figures, not pass/fail.
load: $(VENV)/.installed
	$(PY) -m bench.load $(if $(CLIENTS),--clients $(CLIENTS)) $(if $(DURATION),--seconds $(DURATION))

# Static security checks: checkov on the template (findings fixed or skipped with a reason in the
# resource's Metadata), bandit on our code (medium and high severity fail; `# nosec BXXX` needs a reason).
security: $(CHECKS_VENV)/.installed
	PYTHONPATH= $(CHECKS_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download
	PYTHONPATH= $(CHECKS_VENV)/bin/bandit --quiet --recursive --severity-level medium layers functions local bench

sam-validate: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam validate --lint --region us-east-1

# No container: SAM's python builder needs a python3.11 on PATH, which the project venv provides.
sam-build: $(SAM_VENV)/.installed $(VENV)/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(SAM_VENV)/bin/sam build --region us-east-1

# `sam local` for real: the functions in Lambda containers (Docker inside a network namespace the test
# makes) against the local stack's AWS and simulator through env.json, and a smoke suite through them.
# Needs root; installs docker.io and debootstrap from Debian if they are missing.
sam-local-test: sam-build
	@$(PY) -m tests.sam_local

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
