#!/usr/bin/env bash
# The GPU training run: one command on the device machine, results in $OUT (train/codec/gpu.py).
#
#   make gpu-pack                             # here, once: wheels -> .whl/, photos -> build/gpu/data/
#   device run: bash train/codec/gpu_run.sh   # carry [".whl", "build/gpu"]; 11 minutes of training
#   python -m train.codec.gpu collect OUT_FOLDER runs/gpu/last.ckpt   # here: a checkpoint again
#
# DRY_RUN=1 rehearses it on the CPU in seconds (make gpu-dry-run): the same steps, 2 tiny batches.
set -euo pipefail
PYTHON=${PYTHON:-python3}
: "${OUT:?set OUT to the folder that receives the results}"
mkdir -p "$OUT"
if [ -z "${DRY_RUN:-}" ] && [ -d .whl ]; then
  # The device image lacks compressai and LightningCLI's jsonargparse (device README's recipe).
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=.:${PYTHONPATH:-} PYTHONUNBUFFERED=1
export NEURALCODEC_DATA=${NEURALCODEC_DATA:-build/gpu/data}
RUN=${RUN:-runs/hyperprior-gpu}
INIT=${INIT:-weights/$("$PYTHON" -c 'from neuralcodec import registry; print(registry.get("hyperprior").weights_file)')}
options=(--trainer.max_time "${MAX_TIME:-00:00:11:00}")
if [ -n "${DRY_RUN:-}" ]; then
  options=(--trainer.accelerator cpu --trainer.max_steps 2 --data.batch_size 2
           --data.patch_size 64 --data.num_workers 0 --model.compile false --trainer.log_every_n_steps 1)
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no GPU"
"$PYTHON" -m train.codec.fit fit --config train/configs/hyperprior-gpu.yaml \
  --model.init_weights "$INIT" --trainer.default_root_dir "$RUN" "${options[@]}" 2>&1 \
  | tee "$OUT/train.log" | grep -v -i warn | tail -n 40
last=$(ls -t "$RUN"/lightning_logs/*/checkpoints/last.ckpt | head -1)
cp "$(dirname "$(dirname "$last")")/metrics.csv" "$OUT/metrics.csv"
"$PYTHON" -m train.codec.gpu shards "$last" "$OUT"
