# cctelemetry: make install | make run | make test | make bench | make soak
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev

.PHONY: install install-dev run test test-fast fuzz-long bench soak tools lint clean

# The runtime only: what the service and the CLI need.
install: $(STAMP)

$(STAMP): service/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e service
	touch $(STAMP)

# The test and lint tools on top (make test, make lint, make bench).
install-dev: $(DEV)

$(DEV): $(STAMP) service/pyproject.toml
	$(PIP) install --quiet -e 'service[dev]'
	touch $(DEV)

run: install
	$(VENV)/bin/cctelemetry serve

# Real clients the tests drive: Claude Code, Codex CLI, Gemini CLI and ccusage (all pinned), from npm, and
# Debian's chromium for the dashboard's browser test (each script says why and exits 0 when it cannot).
tools:
	bash scripts/install-claude-code.sh
	bash scripts/install-agent-cli.sh codex
	bash scripts/install-agent-cli.sh gemini-cli
	bash scripts/install-ccusage.sh
	bash scripts/install-chromium.sh

test: install-dev lint tools
	$(PY) -m pytest -q

# ruff (rules and formatter in ruff.toml) over every Python file, and mypy over the package (service/pyproject.toml).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd service && ../$(VENV)/bin/mypy

test-fast: install-dev
	$(PY) -m pytest -q -m "not e2e and not slow"

# The long fuzzing run (more than 10k generated OTLP bodies against a real serve): not part of make test.
fuzz-long: install-dev
	$(PY) -m pytest -q -s -m fuzz_long tests/test_fuzz.py

# Every benchmark in one run (bench/run_all.py): bench/results.json, and the README's table rebuilt from it.
# One step: make bench STEPS=reports_1m,terminal
bench: install-dev tools
	$(PY) bench/run_all.py $(if $(STEPS),--only $(STEPS) --keep)

# 10 minutes at 2,000 OTLP events/s with reports, the dashboard's queries and a transcript import running too:
# count in = count stored, ack latency, RSS over time (bench/soak.py; a 25 s version runs in make test).
soak: install-dev
	$(PY) bench/soak.py --seconds 600 --rate 2000

clean:
	rm -rf $(VENV) .tools .pytest_cache
