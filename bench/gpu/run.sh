#!/usr/bin/env bash
# The CUDA path in one command (README "On a GPU"): `pytest -m gpu`, then the figures
# (bench/gpu/figures.py: capture overhead, profile throughput, one image through the app).
# Everything goes to $OUT: run.log, pytest.txt, pytest.xml, figures.json.
#
#   OUT=/tmp/gpu bash bench/gpu/run.sh            # any CUDA machine
#   GPU_DEVICE=cpu GPU_PYTEST=0 ... bash bench/gpu/run.sh   # tiny settings: tests/training/test_gpu_script.py
#
# Time limits per part (seconds): GPU_PYTEST_S (default 240), GPU_FIGURES_S (default 200).
set -uo pipefail
source "$(dirname "$0")/env.sh"
OUT=${OUT:-$ROOT/bench/out/gpu}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
echo "== $(date -u +%FT%TZ) bench/gpu/run.sh in $ROOT"
install_wheels bench/gpu/wheels/core "$TIMM_CHECK" || exit 1
install_wheels bench/gpu/wheels/app "import streamlit, plotly, captum, babel" || exit 1
# The sample photos travel in bench/gpu/data (prepare_data.py) where ../shared does not.
if [ ! -d "$ROOT/../shared/data/imagenet-samples" ] && [ -d "$ROOT/bench/gpu/data/imagenet-samples" ]; then
  export ATTNVIZ_SHARED_DATA=${ATTNVIZ_SHARED_DATA:-$ROOT/bench/gpu/data}
fi
export GPU_SAMPLES=${GPU_SAMPLES:-${ATTNVIZ_SHARED_DATA:-$ROOT/../shared/data}/imagenet-samples}
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
"$PY" -c "import torch, timm; print('torch', torch.__version__, 'timm', timm.__version__, 'cuda', torch.cuda.is_available())"
status=0
if [ "${GPU_PYTEST:-1}" = 1 ]; then
  echo "== pytest -m gpu"
  timeout "${GPU_PYTEST_S:-240}" "$PY" -m pytest -m gpu tests/test_gpu.py tests/models/test_zoo.py -q -rA -s \
    -p no:cacheprovider --junitxml="$OUT/pytest.xml" 2>&1 | tee "$OUT/pytest.txt"
  status=${PIPESTATUS[0]}
  echo "pytest exit status $status"
fi
echo "== figures"
timeout "${GPU_FIGURES_S:-200}" "$PY" bench/gpu/figures.py "$OUT/figures.json" --pytest-xml "$OUT/pytest.xml"
figures=$?
echo "figures exit status $figures"
echo "== $(date -u +%FT%TZ) done"
[ "$status" = 0 ] && [ "$figures" = 0 ]
