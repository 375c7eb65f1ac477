# receptord: `make demo` and `make test` work on a fresh machine (Python 3.11+ and make).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-password mutation lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/receptord demo

test: $(STAMP)
	$(BIN)/pytest

# The suite again on a cluster from Debian's postgresql package with password (SCRAM) auth over
# TCP, started and deleted by the tests (apt-get install postgresql; see tests/debian_pg.py).
test-password: $(STAMP)
	RECEPTORD_TEST_SERVER=debian $(BIN)/pytest

# Remove each clause of the claim fence from each fenced statement in turn: the fence tests
# must fail every time (tests/fence_mutations.py).
mutation: $(STAMP)
	$(BIN)/python -m tests.fence_mutations

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .receptord-demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
