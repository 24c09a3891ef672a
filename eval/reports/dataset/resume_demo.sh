#!/usr/bin/env bash
# Kill -9 a compress-dataset run mid-way, resume it, compare with an uninterrupted tree.
set -u
cd "$(dirname "$0")/../../.."
D=${1:-build/dataset-resume}; rm -rf $D
CMD=".venv/bin/neuralcodec compress-dataset ../shared/data/camvid $D/run -q 2 --split test --limit 12 --devices 1 --threads 1 --num-workers 1"
echo "== start $(date -u +%T)"; nice -n 5 $CMD > $D.log1 2>&1 &
PID=$!
until [ "$(ls $D/run/test/*.ncc 2>/dev/null | wc -l)" -ge 5 ]; do sleep 0.5; done
kill -9 $PID; sleep 1
echo "== killed (SIGKILL) with $(ls $D/run/test/*.ncc | wc -l) bitstreams written; hidden files: $(cd $D/run && find . -name '.*' -type f | tr '\n' ' ')"
echo "== manifest present after kill: $([ -f $D/run/manifest.jsonl ] && echo yes || echo no)"
sha256sum $D/run/test/*.ncc > $D.before
echo "== resume $(date -u +%T)"; nice -n 5 $CMD 2>&1 | tail -1
echo "== finished files from the killed run unchanged: $(sha256sum -c --quiet $D.before && echo yes)"
echo "== clean uninterrupted run $(date -u +%T)"
nice -n 5 ${CMD/$D\/run/$D/clean} 2>&1 | tail -1
diff -r $D/run $D/clean > /dev/null && echo "== trees identical: yes" || { echo "== trees differ:"; diff -r $D/run $D/clean | head; }
