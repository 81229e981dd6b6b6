"""Reference cases for nn's LSTM and GRU beyond the shared set: made with PyTorch in float64.

Writes nn/tests/data/recurrent_extra.json in the format of the shared
`sequence_models.json` → `recurrent` (see nn/tests/data/README.md), with these cases:

* modules PyTorch runs itself (`torch.nn.LSTM` / `torch.nn.GRU`): a 2-layer GRU with a given
  `h0`, a 2-layer LSTM without biases with a given `(h0, c0)`, a 1-layer GRU without biases;
* the reset mask (`resets`, shape (T, N)): PyTorch has no such argument, so the sequence is
  run one step at a time through the same `torch.nn.LSTM` / `torch.nn.GRU`, multiplying every
  layer's carried state by (1 - resets[t]) before step t — exactly SB3-contrib RecurrentPPO's
  `_process_sequence` with `episode_starts`;
* cells (`torch.nn.LSTMCell` / `torch.nn.GRUCell`), `T = 1`: `input` is (1, N, I), `h0`/`c0`
  are (1, N, H), weights are named without the `_l0` suffix.

The probe loss is L = Σ output·probe_output + Σ h_n·probe_h (+ Σ c_n·probe_c), and `grad` holds
its gradient with respect to the input, the given initial state and every weight.

Run: /work/scratch-venv/bin/python nn/tools/recurrent_reference.py
"""

import json
import pathlib

import numpy
import torch

torch.manual_seed(19)
torch.set_default_dtype(torch.float64)


def rand(*shape):
    return torch.randn(*shape, dtype=torch.float64)


def tolist(x):
    return None if x is None else x.detach().tolist()


def run_module(module, kind, x, h0, c0, resets):
    """The module over the sequence, in one call, or one step at a time with resets."""
    state = None if h0 is None else ((h0, c0) if kind == "lstm" else h0)
    if resets is None:
        return module(x, state)
    layers, n, hidden = module.num_layers, x.shape[1], module.hidden_size
    if state is None:
        zeros = torch.zeros(layers, n, hidden)
        state = (zeros, zeros.clone()) if kind == "lstm" else zeros
    outputs = []
    for t in range(x.shape[0]):
        keep = (1.0 - resets[t]).view(1, n, 1)
        state = tuple(keep * s for s in state) if kind == "lstm" else keep * state
        out, state = module(x[t : t + 1], state)
        outputs.append(out)
    return torch.cat(outputs), state


def module_case(kind, input_size, hidden_size, num_layers, bias, steps, batch, with_state, resets=None):
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    module = cls(input_size, hidden_size, num_layers, bias=bias)
    x = rand(steps, batch, input_size).requires_grad_()
    h0 = rand(num_layers, batch, hidden_size).requires_grad_() if with_state else None
    c0 = rand(num_layers, batch, hidden_size).requires_grad_() if with_state and kind == "lstm" else None
    resets_t = None if resets is None else torch.tensor(resets, dtype=torch.float64)
    output, state = run_module(module, kind, x, h0, c0, resets_t)
    h_n, c_n = state if kind == "lstm" else (state, None)
    return finish(kind, module, dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                                     bias=bias, T=steps, N=batch, cell=False),
                  x, h0, c0, output, h_n, c_n, resets)


def cell_case(kind, input_size, hidden_size, bias, batch):
    cls = torch.nn.LSTMCell if kind == "lstm" else torch.nn.GRUCell
    cell = cls(input_size, hidden_size, bias=bias)
    x = rand(1, batch, input_size).requires_grad_()
    h0 = rand(1, batch, hidden_size).requires_grad_()
    c0 = rand(1, batch, hidden_size).requires_grad_() if kind == "lstm" else None
    if kind == "lstm":
        h, c = cell(x[0], (h0[0], c0[0]))
        h_n, c_n = h.unsqueeze(0), c.unsqueeze(0)
    else:
        h_n, c_n = cell(x[0], h0[0]).unsqueeze(0), None
    return finish(kind, cell, dict(input_size=input_size, hidden_size=hidden_size, num_layers=1, bias=bias,
                                   T=1, N=batch, cell=True),
                  x, h0, c0, h_n, h_n, c_n, None)


def finish(kind, module, config, x, h0, c0, output, h_n, c_n, resets):
    probe_output, probe_h = rand(*output.shape), rand(*h_n.shape)
    probe_c = rand(*c_n.shape) if c_n is not None else None
    loss = (output * probe_output).sum() + (h_n * probe_h).sum()
    if c_n is not None:
        loss = loss + (c_n * probe_c).sum()
    named = dict(module.named_parameters())
    wrt = {"input": x, **({"h0": h0} if h0 is not None else {}), **({"c0": c0} if c0 is not None else {}), **named}
    grads = torch.autograd.grad(loss, list(wrt.values()))
    return {
        "kind": kind,
        **config,
        "weights": {name: tolist(p) for name, p in named.items()},
        "input": tolist(x),
        "h0": tolist(h0),
        "c0": tolist(c0),
        "resets": resets,
        "output": tolist(output),
        "h_n": tolist(h_n),
        "c_n": tolist(c_n),
        "probe_output": tolist(probe_output),
        "probe_h": tolist(probe_h),
        "probe_c": tolist(probe_c),
        "loss": loss.item(),
        "grad": {name: tolist(g) for name, g in zip(wrt, grads)},
    }


# Resets at the first step (the initial state is dropped), mid-sequence, twice in one
# sequence, and in every sequence at once.
RESETS = [
    [1, 0, 0],
    [0, 0, 0],
    [0, 1, 0],
    [0, 0, 0],
    [1, 1, 1],
    [0, 1, 0],
]

cases = [
    module_case("gru", 2, 3, 2, True, 4, 3, with_state=True),
    module_case("lstm", 3, 4, 2, False, 5, 2, with_state=True),
    module_case("gru", 3, 4, 1, False, 5, 2, with_state=False),
    module_case("lstm", 2, 3, 2, True, 6, 3, with_state=True, resets=RESETS),
    module_case("gru", 2, 3, 2, True, 6, 3, with_state=True, resets=RESETS),
    cell_case("lstm", 3, 4, True, 2),
    cell_case("gru", 3, 4, True, 2),
    cell_case("lstm", 2, 3, False, 3),
]

out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "recurrent_extra.json"
out.write_text(json.dumps({
    "made_with": {"torch": torch.__version__, "numpy": numpy.__version__,
                  "script": "nn/tools/recurrent_reference.py"},
    "recurrent": cases,
}))
print(f"wrote {len(cases)} cases to {out}")
