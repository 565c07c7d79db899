# Heal-Ops: `make run` starts the system, `make test` runs every check. Both install first.
# The first of these that is Python 3.11 to 3.13 (3.11 first: the one verified, and the functions' Lambda runtime);
# `make PYTHON=/path/to/python3.12` chooses another.
PYTHON_CANDIDATES := python3.11 python3.12 python3.13 python3
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(foreach candidate,$(PYTHON_CANDIDATES),$(shell command -v $(candidate) >/dev/null 2>&1 \
	&& $(candidate) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null \
	&& echo $(candidate))))
endif
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# checkov pins its own boto3 (and would drag openai back to 0.28 in .venv): it gets a venv of its own.
TOOLS       := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
# Time scale 60 (a simulated minute a second) so the first heal shows within a minute; `make run TIME_SCALE=1`: real time.
TIME_SCALE ?= 60

.PHONY: install tools iac run up down status test test-fast lint bench browser constraints clean

install: $(STAMP)

# Reinstalls only when the pins change; the stamp makes repeated runs instant.
$(STAMP): pyproject.toml requirements/constraints.txt
	@test -x $(PY) || test -n "$(PYTHON)" || { echo "Heal-Ops needs Python 3.11, 3.12 or 3.13, and none of" \
	  "$(PYTHON_CANDIDATES) on the PATH is one: install one (Debian 12: apt-get install python3), or" \
	  "give its path: make PYTHON=/path/to/python3.12" >&2; exit 1; }
	@test -x $(PY) || { echo "creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"; $(PYTHON) -m venv $(VENV); }
	@echo "installing pinned dependencies into $(VENV) (about 90 s on a fresh machine)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	@$(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[dev]'
	@touch $(STAMP)

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP): requirements/tools.txt
	@test -x $(TOOLS)/bin/python || { echo "creating $(TOOLS)"; $(PYTHON) -m venv $(TOOLS); }
	@echo "installing checkov into $(TOOLS) (a few minutes on a fresh machine)"
	@$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/tools.txt
	@touch $(TOOLS_STAMP)

# Static checks of terraform/ (fmt -check and validate also run in pytest: tests/unit/test_terraform.py).
# Every skip is an inline `checkov:skip=ID:why` next to the resource it excuses.
iac: tools
	terraform fmt -check -recursive terraform
	$(TOOLS)/bin/checkov --directory terraform --framework terraform --quiet --compact --skip-download

run: install
	$(VENV)/bin/healops up --time-scale $(TIME_SCALE)

up: install
	$(VENV)/bin/healops up --detach --time-scale $(TIME_SCALE)

down:
	$(VENV)/bin/healops down

status:
	$(VENV)/bin/healops status

test: install browser iac
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

# The fast subset while working: unit tests not marked slow (no embedded cloud, Terraform, zips or browser).
test-fast: install
	$(VENV)/bin/pytest -m "not slow"

bench: install
	$(VENV)/bin/healops bench invoke
	$(VENV)/bin/healops bench gsi
	$(VENV)/bin/healops bench metrics
	$(VENV)/bin/healops bench deploy

# The dashboard's real-browser tests drive Debian's chromium (never `playwright install`: it downloads).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update && apt-get install -y chromium; }

constraints:
	$(PY) -m pip freeze --exclude-editable | grep -v '^healops' \
	  | sed '1i # Every package of the project'"'"'s environment, pinned (pip freeze). Regenerate with: make constraints' \
	  > requirements/constraints.txt

clean:
	rm -rf build .healops .pytest_cache .ruff_cache
