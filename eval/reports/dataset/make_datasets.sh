#!/usr/bin/env bash
# The compressed datasets the task heads train on, in build/datasets/ (git-ignored).
# Resumable: re-run after an interruption and finished bitstreams are kept.
#   bash eval/reports/dataset/make_datasets.sh            # CamVid q2, q5; Imagenette q2, q5
#   EXTRA=1 bash eval/reports/dataset/make_datasets.sh    # also Imagenette q8
#   bash eval/reports/dataset/make_datasets.sh camvid:camvid-q5:5 ready   # chosen jobs (SOURCE:NAME:Q)
# Environment: NEURALCODEC_DATA (default ../shared/data), DEVICES (2), THREADS (1), WORKERS (1).
set -euo pipefail
cd "$(dirname "$0")/../../.."
DATA=${NEURALCODEC_DATA:-../shared/data}
OUT=build/datasets
DEVICES=${DEVICES:-2}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-1}
mkdir -p "$OUT"

compress() {  # compress SOURCE NAME QUALITY
    echo "== $2 (q$3) $(date -u +%H:%M:%S)"
    nice -n 5 .venv/bin/neuralcodec compress-dataset "$DATA/$1" "$OUT/$2" -q "$3" \
        --devices "$DEVICES" --threads "$THREADS" --num-workers "$WORKERS"
}

ready() {  # the note the task-head training polls for
    {
        echo "Compressed datasets (neuralcodec compress-dataset, codec hyperprior), made by"
        echo "eval/reports/dataset/make_datasets.sh. Format: neuralcodec/dataset/README.md."
        echo "Each folder: dataset.json, manifest.jsonl (one JSON line per image), <key>.ncc, annotations."
        echo "Read with neuralcodec.dataset.BitstreamDataset(folder, splits=[...])."
        echo
        for d in "$OUT"/*/; do
            [ -f "$d/manifest.jsonl" ] || continue
            printf '%s  images=%s  bytes=%s  %s\n' "${d%/}" "$(wc -l < "$d/manifest.jsonl")" \
                "$(.venv/bin/python -c "import json,sys; print(sum(json.loads(l)['num_bytes'] for l in open(sys.argv[1])))" "$d/manifest.jsonl")" \
                "$(.venv/bin/python -c "import json,sys; i=json.load(open(sys.argv[1])); print(f\"layout={i['layout']} quality={i['quality']} splits={','.join(i['splits'])} weights={i['weights_id']}\")" "$d/dataset.json")"
        done
    } > "$OUT/READY.part"
    mv "$OUT/READY.part" "$OUT/READY"
}

if [ $# -gt 0 ]; then  # a subset, e.g. `make_datasets.sh imagenette:imagenette-q2:2 ready`
    for job in "$@"; do
        if [ "$job" = ready ]; then ready; else IFS=: read -r src name q <<< "$job"; compress "$src" "$name" "$q"; fi
    done
    exit 0
fi
compress camvid camvid-q2 2
compress imagenette imagenette-q2 2
compress camvid camvid-q5 5
compress imagenette imagenette-q5 5
ready
if [ "${EXTRA:-0}" = 1 ]; then
    compress imagenette imagenette-q8 8
    ready
fi
echo "== done $(date -u +%H:%M:%S)"
