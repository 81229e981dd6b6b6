"""PyTorch's side of `benches/lstm.rs`: one training step of torch.nn.LSTM — forward over the
sequence, backpropagation through time, an Adam step — in eager mode on one thread.

Sizes as issue 19 and the Rust bench: T = 32, N = 64, I = 8, H = 64, one layer, float32; the
loss is the mean squared error of the outputs (T, N, H) against a fixed target, through each
library's own loss (`F.mse_loss` here, `nn::losses::mse` in the Rust bench: both one fused op).

    /work/scratch-venv/bin/python benches/torch-reference/lstm_speed.py [--seconds 10]

Prints the median, and the quartiles, of the time per step over repeated timed blocks (each
block runs the step `inner` times back to back, as criterion's samples do).
"""

import argparse
import statistics
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--seconds", type=float, default=10.0, help="time spent measuring")
args = parser.parse_args()

torch.set_num_threads(1)
torch.manual_seed(0)
T, N, I, H = 32, 64, 8, 64
lstm = torch.nn.LSTM(I, H, 1)
adam = torch.optim.Adam(lstm.parameters())
x = torch.rand(T, N, I) * 2 - 1
target = torch.rand(T, N, H) * 2 - 1


def step():
    adam.zero_grad(set_to_none=True)
    output, _ = lstm(x)
    loss = torch.nn.functional.mse_loss(output, target)
    loss.backward()
    adam.step()
    return loss


for _ in range(20):  # warm up
    step()
inner = 10
samples = []
deadline = time.perf_counter() + args.seconds
while time.perf_counter() < deadline or len(samples) < 10:
    start = time.perf_counter()
    for _ in range(inner):
        step()
    samples.append((time.perf_counter() - start) / inner)
q1, median, q3 = statistics.quantiles(samples, n=4)
print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, mkldnn {torch.backends.mkldnn.is_available()}")
print(f"lstm T={T} N={N} I={I} H={H} f32 forward_bptt_adam: median {median * 1e3:.3f} ms "
      f"(quartiles {q1 * 1e3:.3f}–{q3 * 1e3:.3f} ms, {len(samples)} samples of {inner} steps)")
