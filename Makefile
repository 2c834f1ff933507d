# The course's two commands (README): `make book` and `make test`.
# Each creates .venv, installs what it needs, and works on a fresh machine with
# Python >= 3.10 and make.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# TensorFlow's log noise is silenced for the tests and the book, not in the package.
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONDONTWRITEBYTECODE := 1

# Notebooks under test: every chapter, or NOTEBOOKS="notebooks/03_bahdanau.ipynb".
NOTEBOOKS ?= $(sort $(wildcard notebooks/*.ipynb))
# Seconds a single notebook cell may run under nbval before it counts as hung.
CELL_TIMEOUT ?= 600

.PHONY: help install test unit book-check notebooks book test-backends clean

help:
	@echo "make test   unit tests, book build without execution (-W), notebooks under nbval (ci profile)"
	@echo "make book   execute every notebook (cpu profile) and build the HTML book into _build/html"
	@echo "make test-backends  the layer tests on the JAX and PyTorch backends"
	@echo "make clean  remove _build (keeps .venv)"

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable ".[dev]"
	touch $@

install: $(INSTALLED)

test: $(INSTALLED)
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory book-check
	$(MAKE) --no-print-directory notebooks

unit: $(INSTALLED)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

# Build the book without executing anything, warnings as errors: a broken reference,
# citation or toc entry fails here in seconds.
book-check: $(INSTALLED)
	@mkdir -p _build
	sed 's/^\(  *execute_notebooks:\).*/\1 "off"/' _config.yml > _build/_config.noexec.yml
	$(BIN)/jupyter-book build . --config _build/_config.noexec.yml --path-output _build/check -W -n --keep-going --all -q

# Every notebook top to bottom through nbval, in the ci profile unless ATTNCOURSE_PROFILE says otherwise.
notebooks: $(INSTALLED)
ifeq ($(strip $(NOTEBOOKS)),)
	@echo "no notebooks under notebooks/ yet: nothing to run through nbval"
else
	ATTNCOURSE_PROFILE=$${ATTNCOURSE_PROFILE:-ci} $(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) --durations=0 $(NOTEBOOKS)
endif

# The layer tests again on the JAX and PyTorch backends (installs CPU jax and torch into .venv).
test-backends: $(INSTALLED)
	bash tests/backends.sh

# Execute every notebook in the cpu profile (cached by jupyter-cache) and build the HTML.
book: $(INSTALLED)
	ATTNCOURSE_PROFILE=$${ATTNCOURSE_PROFILE:-cpu} $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "open _build/html/index.html"

clean:
	rm -rf _build
