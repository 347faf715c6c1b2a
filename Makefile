# Two commands on a fresh machine:  make run   (set up, build the index, start the UI)
#                                   make test  (set up, run every test)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup index bench eval load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# torch first, pinned to the CPU wheel, so nothing pulls CUDA packages.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test]"
	@! $(BIN)/pip list 2>/dev/null | grep -qi '^nvidia-' || (echo "CUDA packages were installed; aborting" && exit 1)
	touch $(STAMP)

setup: $(STAMP)

index: setup
	$(BIN)/assistant index

run: setup index
	$(BIN)/python app.py

# Browser tests need Debian's chromium (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: chromium could not be installed; browser tests will fail"

test: setup browser
	$(BIN)/python -m pytest -q

eval: setup
	$(BIN)/python -m evals

bench: setup
	$(BIN)/python -m evals.bench

load: setup
	$(BIN)/python -m evals.load

clean:
	rm -rf $(VENV)
	find index -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
