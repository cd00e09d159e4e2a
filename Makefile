# cctelemetry: make install | make run | make test | make bench
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast bench tools lint clean

install: $(STAMP)

$(STAMP): service/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e 'service[dev]'
	touch $(STAMP)

run: install
	$(VENV)/bin/cctelemetry serve

# Real clients the tests drive: Claude Code, Codex CLI, Gemini CLI and ccusage (all pinned), from npm.
tools:
	bash scripts/install-claude-code.sh
	bash scripts/install-agent-cli.sh codex
	bash scripts/install-agent-cli.sh gemini-cli
	bash scripts/install-ccusage.sh

test: install tools lint
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check --select F,E9 service tests bench

test-fast: install
	$(PY) -m pytest -q -m "not e2e and not slow"

bench: install tools
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_import.py

clean:
	rm -rf $(VENV) .tools .pytest_cache
