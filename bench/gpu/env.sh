# Sourced by bench/gpu/run.sh and train.sh: the Python to use, and the carried wheels installed
# where that Python lacks what requirements.txt pins (the GPU machine has no network: see
# bench/gpu/fetch_wheels.sh). On a machine with the project's own venv nothing is installed.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || PY=python
export PYTHONUNBUFFERED=1
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
pinned() { grep -E "^$1==" requirements.txt | head -1 | cut -d= -f3; }
install_wheels() {  # install_wheels DIR CHECK: DIR's wheels, unless the Python passes CHECK
  local dir=$1 check=$2
  if "$PY" -c "$check" 2>/dev/null; then return 0; fi
  if ! ls "$dir"/*.whl >/dev/null 2>&1; then
    echo "$PY fails '$check' and $dir holds no wheels: run bench/gpu/fetch_wheels.sh and carry $dir" >&2
    return 1
  fi
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/attnviz-site \
    "$dir"/*.whl || return 1
  export PYTHONPATH="/tmp/attnviz-site:$PYTHONPATH"
}
TIMM_CHECK="import sys, timm; sys.exit(timm.__version__ != '$(pinned timm)')"
