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

.PHONY: help install test unit book-check check-book notebooks book test-backends exercises-page clean

help:
	@echo "make test   unit tests, book build without execution (-W), notebooks under nbval (ci profile)"
	@echo "make book   execute every notebook (cpu profile) and build the HTML book into _build/html"
	@echo "make check-book  open every page in headless Chromium (screenshots in _build/screens)"
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
	@if command -v chromium >/dev/null 2>&1; then $(MAKE) --no-print-directory check-book; \
	else $(MAKE) --no-print-directory book-check; \
	echo "chromium not found: pages not checked in a browser (make check-book installs it)"; fi
	$(MAKE) --no-print-directory notebooks

unit: $(INSTALLED)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

# The table of book/exercises.md, from the exercise registry (a unit test checks it is current).
exercises-page: $(INSTALLED)
	$(BIN)/python tests/exercises_page.py

# Build the book without executing anything, warnings as errors: a broken reference,
# citation or toc entry fails here in seconds.
book-check: $(INSTALLED)
	@mkdir -p _build
	# The same configuration with execution off; paths in it are relative to its folder.
	sed -e 's/^\(  *execute_notebooks:\).*/\1 "off"/' -e 's#: book/_ext#: $(CURDIR)/book/_ext#' \
		_config.yml > _build/_config.noexec.yml
	rm -rf _build/check
	$(BIN)/jupyter-book build . --config _build/_config.noexec.yml --path-output _build/check -W -n --keep-going --all -q

# Open every page of a built book in headless Chromium: math rendered, images load, no
# "??" or unresolved reference, no console error, no empty figure; screenshots in
# _build/screens. Checks the no-execution build unless BOOK_HTML names another
# (e.g. BOOK_HTML=_build/html after `make book`). Installs Chromium (as root) and a local
# MathJax (npm) and a Chinese font when missing, since the check runs offline.
BOOK_HTML ?= _build/check/_build/html
MATHJAX := _build/mathjax/node_modules/mathjax/es5
check-book: $(INSTALLED)
	@if [ "$(BOOK_HTML)" = "_build/check/_build/html" ]; then $(MAKE) --no-print-directory book-check; fi
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@# A font with Chinese glyphs, or the glossary's 中文 shows as boxes in the screenshots.
	@fc-list :lang=zh 2>/dev/null | grep -q . || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq fonts-wqy-zenhei >/dev/null; } || echo "no Chinese font installed: 中文 shows as boxes in the screenshots"
	@test -f $(MATHJAX)/tex-mml-chtml.js || npm install --silent --no-audit --no-fund --prefix _build/mathjax mathjax@3
	$(BIN)/python tests/browser_check.py $(BOOK_HTML) --mathjax $(MATHJAX) --screens _build/screens

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
