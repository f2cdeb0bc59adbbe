#!/usr/bin/env bash
# Installs Python's PyTorch (Debian's python3-torch: CPU, gloo for torch.distributed)
# and safetensors for the export / import / DDP tests and examples/pytorch-ddp.
# Everything goes to Debian's /usr/bin/python3 (a pyenv python3 first on PATH
# would not see python3-torch); the tests use the same interpreter (CONVAE_PYTHON
# overrides it). Debian 12 has no python3-safetensors, so it comes from PyPI
# (pip beside the system packages). onnxruntime for Python is optional.
# Without this, the tests that need torch are skipped locally; CI always runs it.
set -euo pipefail
SUDO=""
[ "$(id -u)" != 0 ] && SUDO=sudo
PY="${CONVAE_PYTHON:-/usr/bin/python3}"
if ! "$PY" -c 'import torch' 2>/dev/null; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3 python3-torch libopenblas0 python3-numpy python3-pip >/dev/null
fi
# pip must not replace Debian's numpy (python3-torch is built against it).
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
"$PY" -c 'import numpy; print("numpy==" + numpy.__version__)' >"$constraints"
pip_install() { $SUDO "$PY" -m pip install --quiet --break-system-packages --root-user-action=ignore -c "$constraints" "$@"; }
if ! "$PY" -c 'import safetensors.torch' 2>/dev/null; then
  if apt-cache show python3-safetensors >/dev/null 2>&1; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-safetensors >/dev/null
  else
    pip_install 'safetensors>=0.4,<1'
  fi
fi
if ! "$PY" -c 'import onnxruntime' 2>/dev/null; then
  # Optional: the ONNX test also checks with Python's onnxruntime when it is present.
  pip_install 'onnxruntime>=1.16,<2' || echo "setup-python: onnxruntime for Python not installed (optional)"
fi
"$PY" -c 'import torch, safetensors, numpy; print("python: torch", torch.__version__, "safetensors", safetensors.__version__, "numpy", numpy.__version__)'
"$PY" -c 'import onnxruntime; print("python: onnxruntime", onnxruntime.__version__)' 2>/dev/null || true
