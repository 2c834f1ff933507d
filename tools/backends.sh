#!/usr/bin/env bash
# `make test-backends`: the layer tests on Keras's JAX and PyTorch backends.
#
# The layers promise to run on TensorFlow, JAX and PyTorch (README, "Other backends"); `make test`
# covers TensorFlow. This script adds CPU JAX and a CPU build of PyTorch to the existing
# .venv, then runs the layer tests once per backend, with `tensorflow` made impossible
# to import so that a layer or test that quietly depends on it fails here.
#
# Usage: bash tools/backends.sh [test files...]   (default: the four layer test files)
# Environment: VENV (default .venv), BACKENDS (default "jax torch").
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON="$VENV/bin/python"
BACKENDS=${BACKENDS:-jax torch}
TORCH_VERSION=2.13.0  # a CPU wheel of this version is available locally; plain `torch` would pull CUDA

if [ "$#" -gt 0 ]; then
    TESTS=("$@")
else
    TESTS=(tests/test_layer_invariants.py tests/test_layers_cross.py
           tests/test_layers_pooling.py tests/test_reference.py)
fi
for test_file in "${TESTS[@]}"; do
    if [ ! -e "$test_file" ]; then
        echo "backends.sh: test file $test_file not found" >&2
        exit 1
    fi
done

if [ ! -x "$PYTHON" ]; then
    echo "backends.sh: $PYTHON not found; run 'make install' first" >&2
    exit 1
fi

# Install only what is missing: a second run starts the tests at once.
if ! "$PYTHON" -c "import jax" 2>/dev/null; then
    echo "installing jax (CPU) into $VENV"
    "$PYTHON" -m pip install --quiet jax
fi
if ! "$PYTHON" -c "import torch, sys; sys.exit(not torch.__version__.startswith('$TORCH_VERSION'))" 2>/dev/null; then
    echo "installing torch==$TORCH_VERSION (CPU) into $VENV"
    "$PYTHON" -m pip install --quiet "torch==$TORCH_VERSION"
fi

# A stand-in package that fails on import: on these backends nothing may need TensorFlow.
NO_TF=$(mktemp -d)
trap 'rm -rf "$NO_TF"' EXIT
mkdir -p "$NO_TF/tensorflow"
cat > "$NO_TF/tensorflow/__init__.py" <<'EOF'
raise ImportError("tensorflow must not be imported when testing the JAX and PyTorch backends")
EOF

status=0
for backend in $BACKENDS; do
    echo "== KERAS_BACKEND=$backend: ${TESTS[*]}"
    if ! KERAS_BACKEND=$backend TF_CPP_MIN_LOG_LEVEL=3 PYTHONPATH="$NO_TF${PYTHONPATH:+:$PYTHONPATH}" \
        "$PYTHON" -m pytest -q -p no:cacheprovider "${TESTS[@]}"; then
        echo "== KERAS_BACKEND=$backend: FAILED" >&2
        status=1
    fi
done
exit $status
