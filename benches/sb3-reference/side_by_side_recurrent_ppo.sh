#!/bin/bash
# Recurrent PPO on CartPoleNoVel-v1, sb3-contrib and wengert alternately, each pinned to core 0,
# one process at a time, 10240 env steps each, the same settings (BENCHMARKS.md, "Recurrent PPO
# against sb3-contrib").
#
#   PYTHON=/path/to/venv/bin/python WENGERT=./target/release/wengert \
#     benches/sb3-reference/side_by_side_recurrent_ppo.sh
set -euo pipefail
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
PYTHON=${PYTHON:-python3}
WENGERT=${WENGERT:-./target/release/wengert}
STEPS=${STEPS:-10240}
here=$(dirname "$0")
runs=$(mktemp -d)
for round in 1 2; do
  echo "sb3-contrib round $round: $(taskset -c 0 "$PYTHON" "$here/sb3_recurrent_ppo.py" --steps "$STEPS" --seed "$round" | tail -1)"
  echo "wengert round $round: $(taskset -c 0 "$WENGERT" train recurrent_ppo CartPoleNoVel-v1 \
    --seed "$round" --no-progress --runs-dir "$runs/$round" --eval-episodes 1 \
    --set total_timesteps="$STEPS" 2>&1 | grep trained)"
done
rm -rf "$runs"
