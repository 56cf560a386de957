#!/usr/bin/env bash
# Train the stronger bundled models in one command (README "On a GPU"): bench/gpu/train.py with
# the packed data of bench/gpu/prepare_data.py. Writes to $OUT: train.log, cards.json and one
# <name>.safetensors per model.
#
#   TRAIN_SECONDS=360 OUT=/tmp/train bash bench/gpu/train.sh     # any CUDA machine
# Settings: TRAIN_SECONDS (all models together, default 360), TRAIN_ARCHS, TRAIN_SHARES,
# TRAIN_DATA, TRAIN_DEVICE, TRAIN_BATCH, TRAIN_SIZE, TRAIN_EVAL_SIZE, TRAIN_MAX_STEPS (tests).
set -uo pipefail
source "$(dirname "$0")/env.sh"
OUT=${OUT:-$ROOT/bench/out/gpu-train}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/train.log") 2>&1
echo "== $(date -u +%FT%TZ) bench/gpu/train.sh in $ROOT"
install_wheels bench/gpu/wheels/core "$TIMM_CHECK" || exit 1
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
"$PY" -c "import torch, timm; print('torch', torch.__version__, 'timm', timm.__version__, 'cuda', torch.cuda.is_available())"
args=(--data "${TRAIN_DATA:-bench/gpu/data/imagenette/train.npz}" --out "$OUT" --seconds "${TRAIN_SECONDS:-360}"
      --device "${TRAIN_DEVICE:-auto}" --batch-size "${TRAIN_BATCH:-256}" --train-size "${TRAIN_SIZE:-160}"
      --eval-size "${TRAIN_EVAL_SIZE:-192}" --max-steps "${TRAIN_MAX_STEPS:-0}")
[ -n "${TRAIN_ARCHS:-}" ] && args+=(--archs "$TRAIN_ARCHS")
[ -n "${TRAIN_SHARES:-}" ] && args+=(--shares "$TRAIN_SHARES")
"$PY" bench/gpu/train.py "${args[@]}"
status=$?
ls -l "$OUT"
echo "== $(date -u +%FT%TZ) done, exit status $status"
exit $status
