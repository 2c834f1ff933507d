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

# The Colab copies of the notebooks (`make colab`, tools/colab.py): MyST made plain Markdown,
# the code cells unchanged. The publish workflow pushes them to the branch `colab`.
COLAB_DIR := _build/colab/notebooks
# Notebooks under test: the Colab copy of every chapter (their code is the originals' code,
# which tests/test_colab.py checks, so this runs the chapters and proves the copies run), or
# NOTEBOOKS="notebooks/03_bahdanau.ipynb" (an original) or "$(COLAB_DIR)/03_bahdanau.ipynb".
NOTEBOOKS ?= $(patsubst notebooks/%,$(COLAB_DIR)/%,$(sort $(wildcard notebooks/*.ipynb)))
# Seconds a single notebook cell may run under nbval before it counts as hung.
CELL_TIMEOUT ?= 600

.PHONY: help install test lint-workflows unit book-noexec browser-check notebooks book colab \
	colab-parity test-backends bench claims-sweep exercises-page chapter-headers release clean

# `make help` prints every target with the text after its `##`, read from this file.
help: ## list the targets and what each does
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z][a-z-]*:[^=]*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable ".[dev]"
	touch $@

install: $(INSTALLED) ## create .venv and install the course with its test and book tools

# The same four steps on every machine: browser-check installs Chromium when it is missing.
test: $(INSTALLED) ## lint the workflows, unit tests, the book (-W, not executed) in Chromium, notebooks under nbval (ci)
	$(MAKE) --no-print-directory lint-workflows
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory browser-check
	$(MAKE) --no-print-directory notebooks

# Execute every notebook in the cpu profile (cached by jupyter-cache) and build the HTML.
book: $(INSTALLED) ## execute every notebook (cpu profile) and build the HTML book into _build/html
	ATTNCOURSE_PROFILE=$${ATTNCOURSE_PROFILE:-cpu} $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "open _build/html/index.html"

# The GitHub workflows (.github/workflows) checked by actionlint, with shellcheck on their
# scripts when shellcheck is installed.
WORKFLOWS := $(wildcard .github/workflows/*.yml)
lint-workflows: $(INSTALLED) ## actionlint on the GitHub workflows
	$(BIN)/actionlint $(WORKFLOWS)

# A release: tools/release.py bumps the version in pyproject.toml, attncourse/__init__.py,
# CITATION.cff and the notebooks' setup cells, once CHANGELOG.md has the version's section,
# and prints the git commands that commit and tag it (CONTRIBUTING.md, "Releases").
release: ## VERSION=x.y.z: bump the version everywhere (CHANGELOG.md needs its section first)
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=x.y.z"; exit 2; }
	$(PYTHON) tools/release.py $(VERSION)

unit: $(INSTALLED) ## the unit tests of attncourse, the tools and the book
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

# The table of book/exercises.md, from the exercise registry (a unit test checks it is current).
exercises-page: $(INSTALLED) ## rewrite the table of book/exercises.md from the exercise registry
	$(BIN)/python tools/exercises_page.py

# The "Before you start" header of every chapter (tools/chapter_headers.py): what to read first,
# the reading time (from the prose), the run times measured per profile, what the reader builds.
chapter-headers: $(INSTALLED) ## rewrite every chapter's header (reading time, run times, what it builds)
	$(BIN)/python tools/chapter_headers.py

# Build the book without executing anything, warnings as errors: a broken reference,
# citation or toc entry fails here in seconds.
book-noexec: $(INSTALLED) ## build the book without executing the notebooks, warnings as errors
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
browser-check: $(INSTALLED) ## open every page of the book in headless Chromium (screenshots in _build/screens)
	@if [ "$(BOOK_HTML)" = "_build/check/_build/html" ]; then $(MAKE) --no-print-directory book-noexec; fi
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@# A font with Chinese glyphs, or the glossary's 中文 shows as boxes in the screenshots.
	@fc-list :lang=zh 2>/dev/null | grep -q . || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq fonts-wqy-zenhei >/dev/null; } || echo "no Chinese font installed: 中文 shows as boxes in the screenshots"
	@test -f $(MATHJAX)/tex-mml-chtml.js || npm install --silent --no-audit --no-fund --prefix _build/mathjax mathjax@3
	$(BIN)/python tools/browser_check.py $(BOOK_HTML) --mathjax $(MATHJAX) --screens _build/screens

# Every notebook top to bottom through nbval, in the ci profile unless ATTNCOURSE_PROFILE says otherwise.
# Copies under $(COLAB_DIR) are made afresh first.
notebooks: $(INSTALLED) ## every notebook under nbval (ci profile; NOTEBOOKS=... for some)
ifeq ($(strip $(NOTEBOOKS)),)
	@echo "no notebooks under notebooks/ yet: nothing to run through nbval"
else
	$(if $(filter $(COLAB_DIR)/%,$(NOTEBOOKS)),$(MAKE) --no-print-directory colab)
	ATTNCOURSE_PROFILE=$${ATTNCOURSE_PROFILE:-ci} $(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) --durations=0 $(NOTEBOOKS)
endif

# Run notebooks once per seed and print, per claim, the range of its value and of its null,
# its threshold, its smallest margin and how many runs kept the expected state
# (tools/claims_sweep.sh, tools/claims_table.py). This is how a threshold is chosen from the
# spread: e.g. make claims-sweep SWEEP_PROFILE=cpu SEEDS="0 1 2 3" NOTEBOOKS=notebooks/03_bahdanau.ipynb
SEEDS ?= 0 1 2 3 4 5 6 7
SWEEP_PROFILE ?= ci
claims-sweep: $(INSTALLED) ## run notebooks for several SEEDS and summarise their claims (_build/sweep/)
	PYTHON=$(BIN)/python bash tools/claims_sweep.sh $(SWEEP_PROFILE) "$(SEEDS)" $(if $(filter $(COLAB_DIR)/%,$(NOTEBOOKS)),$(sort $(wildcard notebooks/*.ipynb)),$(NOTEBOOKS))

# The Colab copy of every notebook, in $(COLAB_DIR) (tools/colab.py says what changes).
colab: $(INSTALLED) ## the Colab copies of the notebooks, in _build/colab/notebooks
	$(BIN)/python tools/colab.py $(COLAB_DIR)

# The layer tests again on the JAX and PyTorch backends (installs CPU jax and torch into .venv).
test-backends: $(INSTALLED) ## the layer tests on the JAX and PyTorch backends
	bash tools/backends.sh

# Every benchmark of benchmarks/ in quick mode (BENCH_ARGS="--full" for the full runs, or
# names such as BENCH_ARGS="decoding layers"), then one table of each comparison, its ratio
# and its goal (tools/bench.py). Speed is measured only here, never in a timed test.
BENCH_ARGS ?=
bench: $(INSTALLED) ## run every benchmark (quick) and print one table of ratios and goals
	$(BIN)/python tools/bench.py $(BENCH_ARGS)

# Colab parity: the unit tests and the notebooks (ci profile) again, in .venv-colab, with
# Colab's Python (3.13) and the versions Colab pins (tools/colab-pins.txt, the only place they
# live). The environment is made as a reader's is: Colab's pins, then the course as the
# notebooks' setup cell installs it (the package and its declared dependencies, which may
# upgrade a Colab package; editable here, so the notebooks import this tree), then the test
# tools under a constraint that keeps every pinned package where the setup cell left it.
# COLAB_PYTHON=python3.13 (a command or a path) skips the search for a Python 3.13, which
# tries python3.13 on PATH, then pyenv's and uv's 3.13 installs.
COLAB_PYTHON ?=
COLAB_PYTHON_VERSION := 3.13
COLAB_VENV := .venv-colab
COLAB_BIN := $(COLAB_VENV)/bin
COLAB_INSTALLED := $(COLAB_VENV)/.installed
COLAB_PINS := tools/colab-pins.txt
# What `make unit` and `make notebooks` need beyond the pins (jupyter-book brings the Sphinx
# and docutils that tests/test_colab.py compares anchors with).
COLAB_TEST_TOOLS := "nbval>=0.11" pyyaml "jupyter-book>=1.0,<2"

$(COLAB_INSTALLED): pyproject.toml $(COLAB_PINS)
	@set -e; py="$(COLAB_PYTHON)"; \
	version_of() { "$$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }; \
	if [ -n "$$py" ]; then \
		found=$$(version_of "$$py") || { echo "colab-parity: COLAB_PYTHON=$$py does not run" >&2; exit 1; }; \
		[ "$$found" = "$(COLAB_PYTHON_VERSION)" ] || { echo "colab-parity: COLAB_PYTHON=$$py is Python $$found, Colab runs $(COLAB_PYTHON_VERSION)" >&2; exit 1; }; \
	else \
		for candidate in python$(COLAB_PYTHON_VERSION) \
			$$(pyenv root 2>/dev/null)/versions/$(COLAB_PYTHON_VERSION)*/bin/python$(COLAB_PYTHON_VERSION) \
			$$(uv python find $(COLAB_PYTHON_VERSION) 2>/dev/null); do \
			if [ "$$(version_of "$$candidate")" = "$(COLAB_PYTHON_VERSION)" ]; then py=$$candidate; break; fi; \
		done; \
		[ -n "$$py" ] || { echo "colab-parity: no Python $(COLAB_PYTHON_VERSION) found (Colab's; tried python$(COLAB_PYTHON_VERSION) on PATH, pyenv's and uv's installs). Install one (e.g. pyenv install $(COLAB_PYTHON_VERSION)) or name it: make colab-parity COLAB_PYTHON=/path/to/python$(COLAB_PYTHON_VERSION)" >&2; exit 1; }; \
	fi; \
	echo "colab-parity: creating $(COLAB_VENV) with $$py"; \
	rm -rf $(COLAB_VENV); \
	"$$py" -m venv $(COLAB_VENV)
	$(COLAB_BIN)/python -m pip install --quiet --upgrade pip
	$(COLAB_BIN)/python -m pip install --quiet --requirement $(COLAB_PINS)
	$(COLAB_BIN)/python -m pip install --quiet --editable .
	@# The pinned packages as the setup cell left them, as constraints for the test tools.
	names=$$(sed -n 's/^\([A-Za-z0-9][A-Za-z0-9_.-]*\)==.*/\1/p' $(COLAB_PINS) | sed 's/[-_.]/[-_.]/g' | paste -sd'|'); \
	$(COLAB_BIN)/python -m pip freeze | grep -iE "^($$names)==" > $(COLAB_VENV)/constraints.txt
	$(COLAB_BIN)/python -m pip install --quiet --constraint $(COLAB_VENV)/constraints.txt $(COLAB_TEST_TOOLS)
	touch $@

colab-parity: $(COLAB_INSTALLED) ## unit tests and notebooks on Colab's Python and versions, in .venv-colab
	@$(COLAB_BIN)/python -c 'import sys, tensorflow as tf, keras, numpy; print("colab-parity: Python %s, TensorFlow %s, Keras %s, NumPy %s" % (sys.version.split()[0], tf.__version__, keras.__version__, numpy.__version__))'
	@# The targets of `make test`, run with .venv-colab's python; INSTALLED= (nothing) keeps
	@# them from making .venv, which the parity run does not need.
	$(MAKE) --no-print-directory unit BIN=$(COLAB_BIN) INSTALLED=
	$(MAKE) --no-print-directory notebooks BIN=$(COLAB_BIN) INSTALLED=

clean: ## remove _build (keeps .venv)
	rm -rf _build
