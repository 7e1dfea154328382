#!/usr/bin/env bash
# The GPU box check (issue 12): one short run, about 6-7 minutes; every step has a time limit, and all of them end
# by GPU_CHECK_SECONDS (default 540) so a 600-second command limit still brings the logs back.
#
#   perf/gpu_check.sh                 # on the GPU machine, from the repo root; logs and summary.txt in ${OUT:-var/gpu-check}
#   perf/gpu_check.sh fetch-wheels    # here, beforehand: our transformers & co. as wheels in var/gpu-wheels (~45 MB)
#
# No weights are shipped: random models are built from the registry's configs (perf/random_models.py), bge-m3 laid
# out as a Hugging Face cache entry at its pinned commit, so the CLI loads it by key, offline, as on the box.
# If the machine's transformers is older than ours (< 5.19) and var/gpu-wheels exists, those wheels are installed
# into a temporary folder first (no network needed; torch, numpy and scikit-learn are the machine's own).
# Data: data/email_dev.jsonl if present (copy ../shared/data/email_dev.jsonl there; it is git-ignored), else the
# 20-row example. Steps, most wanted first: versions; (1) peak VRAM of bge-m3 at 512 tokens x 16: today's recipe on
# the whole card, ours on an "8.2 GB card" and on one shared with a 2 GB "vLLM"; (2) a full CLI fine-tune of bge-m3
# (JSON events) on the "8.2 GB card"; (3) the OOM path, provoked by leaving 1.7 GB free; (4) perf/train_throughput.py
# on bge-m3- and MiniLM-sized models, recipes a/b/c.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python3}
WHEELS=var/gpu-wheels

if [ "${1:-}" = "fetch-wheels" ]; then
  # Exact versions of this checkout's .venv; --no-deps: torch, numpy, scipy, scikit-learn stay the machine's.
  names='transformers|tokenizers|huggingface[-_]hub|safetensors|accelerate|hf[-_]xet|httpx2|httpcore2|h11|anyio|idna|truststore|typing[-_]extensions|filelock|fsspec|tqdm|packaging|pyyaml|regex|typer|click|shellingham|rich|markdown-it-py|mdurl|pygments|annotated-doc|pydantic|pydantic[-_]core|pydantic[-_]settings|python-dotenv|typing[-_]inspection|annotated[-_]types|sentencepiece|protobuf'
  mkdir -p "$WHEELS"
  .venv/bin/python -m pip freeze | grep -iE "^($names)==" > "$WHEELS/requirements.txt"
  for version in ${WHEEL_PYTHONS:-3.11 3.12 3.13}; do  # the machine's Python is unknown until it runs
    .venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version "$version" \
      --implementation cp --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux_2_28_x86_64 -d "$WHEELS" -r "$WHEELS/requirements.txt" || exit 1
  done
  du -sh "$WHEELS"
  exit 0
fi

OUT=${OUT:-var/gpu-check}
DEADLINE=${GPU_CHECK_SECONDS:-540}
mkdir -p "$OUT"
W=$(mktemp -d)
export PYTHONPATH="$ROOT" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONWARNINGS=ignore
HOLD=""
trap '[ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null; rm -rf "$W"' EXIT

step() {  # step NAME SECONDS CMD...: run with a time limit, log to $OUT/NAME.log, print the result lines
  local name=$1 limit=$2 started=$SECONDS rc
  shift 2
  if [ $((DEADLINE - SECONDS)) -lt 20 ]; then echo "== $name: skipped, out of time"; return 0; fi
  [ "$limit" -gt $((DEADLINE - SECONDS)) ] && limit=$((DEADLINE - SECONDS))
  echo "== $name (limit ${limit}s)"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  echo "   exit $rc after $((SECONDS - started))s" | tee -a "$OUT/$name.log"
  grep -E '^(\([abc]\)|c/[ab]|RESULTS|PROBE|holding|ok:)|"type": "(start|log|warning|eval|complete|error)"' "$OUT/$name.log" \
    | cut -c1-600
  [ $rc -ne 0 ] && tail -n 5 "$OUT/$name.log"
  return 0
}

hold() {  # hold CARD_GB OTHER_GB: a separate process keeps the rest of the GPU, like a smaller card plus vLLM
  $PY perf/memory_probe.py hold --card-gb "$1" --other-gb "$2" > "$OUT/hold-$1-$2.log" 2>&1 &
  HOLD=$!
  for _ in $(seq 60); do grep -q holding "$OUT/hold-$1-$2.log" && return 0; sleep 1; done
  echo "   ballast did not start"; cat "$OUT/hold-$1-$2.log"
}

release() { [ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null; HOLD=""; }

echo "== versions"
nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv,noheader | tee "$OUT/nvidia-smi.txt"
version_check='import sys, torch, transformers; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)'
$PY -c "$version_check"
if ! $PY -c 'import transformers, pydantic_settings, sentencepiece, sklearn, accelerate, sys
v = tuple(int(x) for x in transformers.__version__.split(".")[:2]); sys.exit(v < (5, 19))' 2>/dev/null; then
  if [ -d "$WHEELS" ]; then
    $PY -m pip install -q --no-index --no-deps --find-links "$WHEELS" -r "$WHEELS/requirements.txt" --target "$W/site" \
      && export PYTHONPATH="$W/site:$PYTHONPATH"
    echo "installed var/gpu-wheels into a temporary folder:"; $PY -c "$version_check"
  else
    echo "this machine's packages are older than ours and var/gpu-wheels is missing: run 'perf/gpu_check.sh fetch-wheels' first"
  fi
fi

DATA=data/email_dev.jsonl
[ -f "$DATA" ] || DATA=data/email_score.jsonl.example
$PY -c "import sys; sys.path.insert(0, 'perf'); from train_throughput import stratified_sample as s; from pathlib import Path
open('$W/sample.jsonl', 'w').write('\n'.join(s(Path('$DATA'), 400)) + '\n')"
step build-bge-m3 120 $PY perf/random_models.py bge-m3 "$W/hub" --hub-cache --data "$DATA"
export HF_HUB_CACHE="$W/hub"

step probe-today 75 $PY perf/memory_probe.py run --model bge-m3 --recipe today
step probe-ours-8.2gb 75 $PY perf/memory_probe.py run --model bge-m3 --recipe ours --card-gb 8.2
step probe-ours-8.2gb-vllm2 75 $PY perf/memory_probe.py run --model bge-m3 --recipe ours --card-gb 8.2 --other-gb 2

hold 8.2 0
step cli-finetune-8.2gb 120 $PY -m worker.training --model bge-m3 --data "$W/sample.jsonl" --epochs 1 --json \
  --models-dir "$W/models"
release
hold 8.2 6.5
step cli-oom 75 $PY -m worker.training --model bge-m3 --data "$W/sample.jsonl" --epochs 1 --json --models-dir "$W/models"
release

step throughput-bge-m3 150 $PY perf/train_throughput.py --model bge-m3 --data "$DATA" --limit 400
step build-minilm 60 $PY perf/random_models.py minilm "$W/minilm" --data "$DATA"
step throughput-minilm 90 $PY perf/train_throughput.py --model "$W/minilm" --data "$DATA" --limit 800
# Issue 17's thorough audit at the job's defaults (5 folds x 5 epochs: ~2 h at one CPU thread) against quick, seed 0.
if [ "$DATA" = data/email_dev.jsonl ]; then
  step labelling-thorough 240 $PY perf/labelling.py --data "$DATA" --parts errors,thorough --seeds 1 \
    --out "$OUT/labelling.json"
fi

grep -hE '^(\([abc]\)|c/[ab]|PROBE)|"type": "(complete|error)"|exit [0-9]+ after' "$OUT"/*.log > "$OUT/summary.txt"
echo "== done in ${SECONDS}s; logs in $OUT"
