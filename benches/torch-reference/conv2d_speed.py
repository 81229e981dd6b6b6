#!/usr/bin/env python3
"""PyTorch eager on one thread, the shape of `benches/conv2d.rs`: Conv2d N=32, C=16->32,
3x3, padding 1, 16x16; forward + backward of L = sum(y * probe) with respect to the input,
the weight and the bias (float32 and float64), and the forward pass alone under no_grad.

    taskset -c 1 /work/scratch-venv/bin/python benches/torch-reference/conv2d_speed.py

Prints, per case, the median, the minimum and the quartiles of 30 batches of timed calls
(each batch long enough to take ~0.2 s), as criterion's median is a median of such samples.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import statistics
import time

import torch

torch.set_num_threads(1)


def measure(f, samples=30, target=0.2):
    for _ in range(20):  # warm-up: allocator, oneDNN primitive cache
        f()
    start = time.perf_counter()
    f()
    once = time.perf_counter() - start
    reps = max(1, int(target / max(once, 1e-7)))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(reps):
            f()
        times.append((time.perf_counter() - start) / reps)
    times.sort()
    q = statistics.quantiles(times, n=4)
    return statistics.median(times), times[0], q[0], q[2]


def main():
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}, affinity {sorted(os.sched_getaffinity(0))}")
    for dtype in (torch.float32, torch.float64):
        torch.manual_seed(0)
        conv = torch.nn.Conv2d(16, 32, 3, padding=1).to(dtype)
        x = torch.rand(32, 16, 16, 16, dtype=dtype) - 0.5
        probe = torch.rand(32, 32, 16, 16, dtype=dtype) - 0.5

        def forward_backward():
            xr = x.detach().requires_grad_(True)
            conv.zero_grad(set_to_none=True)
            loss = (conv(xr) * probe).sum()
            loss.backward()
            return xr.grad

        def forward():
            with torch.no_grad():
                return conv(x)

        name = str(dtype).replace("torch.", "")
        for case, f in (("forward_backward", forward_backward), ("forward", forward)):
            median, best, q1, q3 = measure(f)
            print(f"conv2d/{name}/{case}: median {median * 1e3:.3f} ms "
                  f"(min {best * 1e3:.3f}, quartiles {q1 * 1e3:.3f}-{q3 * 1e3:.3f})")


if __name__ == "__main__":
    main()
