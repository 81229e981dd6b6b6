#!/bin/bash
# Recurrent PPO on CartPoleNoVel-v1 with rl-baselines3-zoo's ppo_lstm.yml settings, sb3-contrib
# and wengert side by side: both at once, sb3-contrib pinned to core 1 with one torch thread,
# wengert to core 0, each training STEPS env steps (default the zoo's 100k) and then evaluating
# deterministically over 10 episodes; wall and CPU seconds of each (BENCHMARKS.md, "Recurrent
# PPO against sb3-contrib").
#
#   PYTHON=/path/to/venv/bin/python WENGERT=./target/release/wengert SEED=1 \
#     benches/sb3-reference/side_by_side_recurrent_ppo.sh
set -euo pipefail
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
PYTHON=${PYTHON:-python3}
WENGERT=${WENGERT:-./target/release/wengert}
STEPS=${STEPS:-100000}
SEED=${SEED:-1}
here=$(dirname "$0")
runs=$(mktemp -d)
echo "load before: $(uptime)"
(
  start=$(date +%s.%N)
  out=$(taskset -c 1 "$PYTHON" "$here/sb3_recurrent_ppo.py" --steps "$STEPS" --seed "$SEED" \
    --eval-episodes 10 | tail -1)
  echo "sb3-contrib: $out (process wall $(echo "$(date +%s.%N) - $start" | bc) s)"
) &
sb3=$!
(
  start=$(date +%s.%N)
  out=$(/usr/bin/time -f "CPU %U s user + %S s system" taskset -c 0 "$WENGERT" train recurrent_ppo \
    CartPoleNoVel-v1 --seed "$SEED" --no-progress --runs-dir "$runs" --eval-episodes 10 \
    --set total_timesteps="$STEPS" --set env_threads=1 2>&1 | grep -E "trained|evaluation|CPU")
  echo "wengert: $out (process wall $(echo "$(date +%s.%N) - $start" | bc) s)"
) &
wengert=$!
wait "$sb3" "$wengert"
echo "load after: $(uptime)"
rm -rf "$runs"
