#!/usr/bin/env bash
# Finite-size-scaling sweep of docs/sweeps.md (issue 12), in priority order: every stage
# resumes (a rerun skips stored keys), so the script can be stopped and restarted.
# Usage: scripts/sweeps/fss.sh [small|large|all] [DB]   (default all, runs/fss.db)
set -euo pipefail
PART=${1:-all}
DB=${2:-runs/fss.db}
S="nice -n 19 .venv/bin/stochsyn sweep $DB -j 2"
if [ "$PART" != large ]; then
$S -s stochastic --n 251,501,1001,2001,4001,10001 --alpha 0.62:0.82:0.02 --seeds 10
$S -s sbpi       --n 251,501,1001,2001,4001      --alpha 0.60:0.80:0.02 --seeds 10
$S -s fbp,rbp    --n 251,501,1001                --alpha 0.62:0.82:0.02 --seeds 10
$S -s fbp,rbp    --n 2001                        --alpha 0.64:0.80:0.02 --seeds 10
fi
if [ "$PART" = small ]; then exit 0; fi
$S -s sbpi       --n 10001 --alpha 0.66,0.69,0.72,0.75 --seeds 5
$S -s stochastic --n 30001 --alpha 0.68:0.76:0.02 --seeds 5
$S -s fbp,rbp    --n 4001  --alpha 0.69,0.72 --seeds 3
$S -s sbpi       --n 30001 --alpha 0.68,0.72 --seeds 3
$S -s fbp,rbp    --n 10001 --alpha 0.70 --seeds 1
