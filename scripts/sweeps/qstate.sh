#!/usr/bin/env bash
# q-state sweep of docs/core.md (issue 15): N = 1001, 10 seeds, binary and ternary
# stochastic synapses (three zero_bias values) and ternary Max-Sum (two l0 values).
# Usage: scripts/sweeps/qstate.sh [DB]   (default runs/qstate.db)
set -euo pipefail
DB=${1:-runs/qstate.db}
S="nice -n 19 .venv/bin/stochsyn sweep $DB -j 2 --n 1001 --seeds 10"
$S -s stochastic --alpha 0.60:0.80:0.02
for zb in 0 0.5 1; do
  $S -s stochastic --alpha 0.50:1.15:0.05 -o levels=3 -o zero_bias=$zb
done
# Max-Sum costs ~10 s per trial here: the sparse prior (l0 = 0.5) only; l0 = 0 (≈ 20% zeros) is
# left out of this run for time (6 single-seed rows at α = 0.5–0.75 exist from an earlier start)
$S -s maxsum --alpha 0.50:1.00:0.05 -o levels=3 -o l0=0.5
