# The README's two commands: `make demo` and `make test`. Both start from a bare Debian 12
# machine: system packages through scripts/install-deps, Python packages into .venv.

VENV   := .venv
PY     := $(VENV)/bin/python
PYTEST_WORKERS ?= auto

.PHONY: all deps venv test lint demo bench clean

all: test

deps:
	scripts/install-deps

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

lint: venv
	$(VENV)/bin/ruff check qvirt tests scripts bench
	$(VENV)/bin/mypy

test: deps venv lint
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS)

demo: deps venv
	$(PY) scripts/demo.py

bench: deps venv
	$(PY) -m bench.run

clean:
	rm -rf build $(VENV)
