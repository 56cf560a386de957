#!/usr/bin/env bash
# Download, on the development machine, the wheels that the GPU machine lacks (it has no network):
# its image has torch, torchvision, numpy, scipy, pandas, pillow, safetensors, pytest, tqdm,
# huggingface_hub and an unknown timm; attnviz needs timm at our pin (core/: both commands) and
# the app's stack (app/: bench/gpu/run.sh only). Versions are requirements.txt's pins, for the GPU
# machine's Python (3.12, x86-64). pydeck (11 MB, only st.pydeck_chart needs it) is left out to
# stay inside the 64 MiB that may travel.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python}
pin() { grep -E "^$1==" ../../requirements.txt | head -1; }
get() {
  local dest=$1; shift
  mkdir -p "wheels/$dest"
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "wheels/$dest" "$@"
}
rm -rf wheels
get core "$(pin timm)"
# Streamlit's and captum's own requirements that the GPU image lacks (read off their metadata).
get app "$(pin streamlit)" "$(pin plotly)" "$(pin captum)" "$(pin babel)" \
  altair==6.3.0 jsonschema==4.26.0 jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1 \
  itsdangerous==2.2.0 python-multipart==0.0.34 starlette==1.10.0 uvicorn==0.55.0 watchdog==7.1.0 websockets==17.4
du -sh wheels/*
