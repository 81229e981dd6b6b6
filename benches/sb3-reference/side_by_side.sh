#!/bin/bash
# SAC on Pendulum-v1, Stable-Baselines3 and wengert alternately, each pinned to core 1, one
# process at a time, 3000 env steps each (BENCHMARKS.md, "SAC against Stable-Baselines3").
#
#   PYTHON=/path/to/venv/bin/python benches/sb3-reference/side_by_side.sh
#
# PYTHON is an environment with the packages of requirements-measured.txt; run from the
# repository root after `cargo build --release`.
set -euo pipefail
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
PYTHON=${PYTHON:-python3}
here=$(dirname "$0")
runs=$(mktemp -d)
for round in 1 2; do
  for h in 256 64; do
    echo "sb3 $h round $round: $(taskset -c 1 "$PYTHON" "$here/sb3_speed.py" "sac$h" --seed "$round" | tail -1)"
    echo "wengert $h round $round: $(taskset -c 1 ./target/release/wengert train sac pendulum \
      --seed "$round" --no-progress --runs-dir "$runs/$h-$round" \
      --set hidden=$h,$h --set total_timesteps=3000 2>&1 | grep trained)"
  done
done
rm -rf "$runs"
