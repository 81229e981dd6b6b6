"""PyTorch's Hessian-vector product on the problem of `benches/hvp.rs`, for a side-by-side timing.

The same MLP loss `mean((tanh(tanh(x W1 + b1) W2 + b2) W3 + b3 - t)^2)`, the same parameters,
data and direction `v` (the SplitMix generator and the direction formula of `benches/common` and
`benches/hvp.rs`, reproduced here), on one thread. Three timings per problem, as the bench's:

* `gradient`: forward pass and `torch.autograd.grad`;
* `hvp_from_scratch`: forward pass, `grad(create_graph=True)`, then `grad(<g, v>)` (double
  backward, reverse over reverse, what the engine does);
* `hvp_apply`: the last backward pass alone, on a gradient recorded once (`retain_graph`);

and `torch.func` (`jvp(grad(f))`, forward over reverse) from scratch for comparison.

    /work/scratch-venv/bin/python benches/torch-reference/hvp_torch.py [--check]

Prints one line per timing (median of `--rounds` rounds of `--round-seconds` each) and writes
`hvp_torch.json` beside this file. `--check` also prints `|H v|` per parameter in f64, to compare
with the engine's.
"""

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

MASK64 = (1 << 64) - 1


class SplitMix:
    """`benches/common`'s generator: uniform in [-1, 1)."""

    def __init__(self, seed):
        self.state = seed

    def uniform(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        z ^= z >> 31
        return (z >> 11) / float(1 << 53) * 2.0 - 1.0

    def matrix(self, rows, cols, scale, dtype):
        values = [scale * self.uniform() for _ in range(rows * cols)]
        return torch.tensor(values, dtype=dtype).reshape(rows, cols)

    def vector(self, n, scale, dtype):
        return torch.tensor([scale * self.uniform() for _ in range(n)], dtype=dtype)


def problem(sizes, seed, dtype):
    inp, hidden, out, batch = sizes
    rng = SplitMix(seed)
    params = []
    for fan_in, fan_out in [(inp, hidden), (hidden, hidden), (hidden, out)]:
        bound = 1.0 / fan_in**0.5
        params.append(rng.matrix(fan_in, fan_out, bound, dtype))
        params.append(rng.vector(fan_out, 0.1, dtype))
    x = rng.matrix(batch, inp, 1.0, dtype)
    t = rng.matrix(batch, out, 1.0, dtype)
    return params, x, t


def direction(params):
    """`benches/hvp.rs`'s `direction`: element i (from 1, row-major) of parameter k."""
    v = []
    for k, p in enumerate(params):
        n = p.numel()
        values = [((i * 7919 + k * 104_729) % 1000) / 500.0 - 1.0 for i in range(1, n + 1)]
        v.append(torch.tensor(values, dtype=p.dtype).reshape(p.shape))
    return v


def loss(params, x, t):
    W1, b1, W2, b2, W3, b3 = params
    h1 = torch.tanh(x @ W1 + b1)
    h2 = torch.tanh(h1 @ W2 + b2)
    y = h2 @ W3 + b3
    r = y - t
    return (r * r).mean()


def gradient(params, x, t):
    ps = [p.detach().requires_grad_() for p in params]
    return torch.autograd.grad(loss(ps, x, t), ps)


def hvp_from_scratch(params, x, t, v):
    ps = [p.detach().requires_grad_() for p in params]
    g = torch.autograd.grad(loss(ps, x, t), ps, create_graph=True)
    return torch.autograd.grad(g, ps, v)


def hvp_func(params, x, t, v):
    f = lambda ps: loss(ps, x, t)
    return torch.func.jvp(torch.func.grad(f), (tuple(params),), (tuple(v),))[1]


def time_it(fn, rounds, round_seconds):
    """Median over `rounds` rounds of the mean time of one call, each round about
    `round_seconds` long (the number of calls per round is calibrated first)."""
    fn()
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < round_seconds:
        fn()
        calls += 1
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--round-seconds", type=float, default=0.3)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    small, large = (4, 64, 2, 64), (17, 256, 6, 256)
    cases = [(small, torch.float32, "f32"), (small, torch.float64, "f64"), (large, torch.float32, "f32")]
    results = []
    for sizes, dtype, name in cases:
        params, x, t = problem(sizes, 42, dtype)
        v = direction(params)
        ps = [p.detach().requires_grad_() for p in params]
        g = torch.autograd.grad(loss(ps, x, t), ps, create_graph=True)
        apply = lambda: torch.autograd.grad(g, ps, v, retain_graph=True)
        label = f"hvp {sizes[0]}-{sizes[1]}-{sizes[1]}-{sizes[2]} batch {sizes[3]} {name}"
        row = {
            "group": label,
            "gradient": time_it(lambda: gradient(params, x, t), args.rounds, args.round_seconds),
            "hvp_from_scratch": time_it(lambda: hvp_from_scratch(params, x, t, v), args.rounds, args.round_seconds),
            "hvp_apply": time_it(apply, args.rounds, args.round_seconds),
            "torch_func_hvp": time_it(lambda: hvp_func(params, x, t, v), args.rounds, args.round_seconds),
        }
        for key in ["gradient", "hvp_from_scratch", "hvp_apply", "torch_func_hvp"]:
            print(f"{label}/{key}: {row[key] * 1e6:.1f} µs")
        results.append(row)
    if args.check:
        params, x, t = problem(small, 7, torch.float64)
        hv = hvp_from_scratch(params, x, t, direction(params))
        print("check (small f64, seed 7): |H v| per parameter", [float(h.abs().max()) for h in hv])
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "seconds_median": results,
    }
    (Path(__file__).parent / "hvp_torch.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
