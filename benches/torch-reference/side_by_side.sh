#!/bin/bash
# LSTM (benches/lstm.rs) and Conv2d (benches/conv2d.rs) against PyTorch eager, alternately:
# in each round the project's criterion bench, then PyTorch's script, every process pinned to
# core 1 and PyTorch on one thread (BENCHMARKS.md, the LSTM and Conv2d rows).
#
#   PYTHON=/work/scratch-venv/bin/python benches/torch-reference/side_by_side.sh [rounds]
#
# Prints, per round, the load average and the medians (criterion's median of its samples, read
# from target/criterion/*/new/estimates.json; PyTorch's median of its timed blocks).
set -euo pipefail
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
PYTHON=${PYTHON:-python3}
here=$(dirname "$0")
rounds=${1:-3}
target=${CARGO_TARGET_DIR:-target}
cargo bench --bench lstm --bench conv2d --no-run 2>/dev/null
median() { # criterion's median in ms, from its estimates.json
  "$PYTHON" -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['median']['point_estimate'] / 1e6:.3f} ms\")" "$1"
}
for round in $(seq 1 "$rounds"); do
  echo "== round $round: $(uptime)"
  taskset -c 1 cargo bench --bench lstm -- --measurement-time 8 --warm-up-time 2 >/dev/null 2>&1
  echo "wengert lstm forward_bptt_adam: median $(median "$target"/criterion/lstm*/forward_bptt_adam/new/estimates.json)"
  echo "torch   $(taskset -c 1 "$PYTHON" "$here/lstm_speed.py" --seconds 8 | tail -1)"
  taskset -c 1 cargo bench --bench conv2d -- --measurement-time 5 --warm-up-time 1 >/dev/null 2>&1
  for case in f32/forward_backward f32/forward f32/gemm_32x144x256 f64/forward_backward f64/forward f64/gemm_32x144x256; do
    echo "wengert conv2d/$case: median $(median "$target/criterion/conv2d/${case/\//_}/new/estimates.json")"
  done
  taskset -c 1 "$PYTHON" "$here/conv2d_speed.py" | sed 's/^/torch   /'
done
