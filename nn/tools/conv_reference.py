"""Reference values for nn's image layers, from PyTorch in float64.

Writes nn/tests/data/conv_reference.json with
  conv2d:      torch.nn.functional.conv2d cases beyond those in sequence_models.json (dilation,
               groups, no bias, rectangular kernels and strides): the output, the gradients of
               L = Σ output·probe_output, and the second-order gradients of
               L2 = Σ ∂L'/∂input·probe_input + Σ ∂L'/∂weight·probe_weight,  L' = Σ tanh(output)·probe_output,
               with respect to the input and the weight;
  max_pool2d:  torch.nn.functional.max_pool2d (kernel, stride, padding, dilation, ceil_mode) on
               inputs with many ties (small integers), the output and the gradient of Σ output·probe;
  batch_norm2d: torch.nn.BatchNorm2d in training mode for a few steps (momentum 0.1 and None):
               after each step the output, running_mean, running_var, num_batches_tracked, and the
               gradients of Σ output·probe with respect to the input, weight and bias; then an
               evaluation-mode output.

Run: /work/scratch-venv/bin/python nn/tools/conv_reference.py
"""

import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(19)
torch.set_default_dtype(torch.float64)


def tolist(t):
    return t.detach().tolist()


def conv_case(n, c, h, w, out_channels, kernel, stride, padding, dilation, groups, bias):
    x = torch.randn(n, c, h, w, requires_grad=True)
    weight = torch.randn(out_channels, c // groups, *kernel, requires_grad=True)
    b = torch.randn(out_channels, requires_grad=True) if bias else None
    y = F.conv2d(x, weight, b, stride, padding, dilation, groups)
    probe = torch.randn_like(y)
    loss = (y * probe).sum()
    wanted = [x, weight] + ([b] if bias else [])
    grads = torch.autograd.grad(loss, wanted)
    # second order, through a tanh so that every term of the Hessian takes part
    y2 = F.conv2d(x, weight, b, stride, padding, dilation, groups)
    loss2 = (torch.tanh(y2) * probe).sum()
    gx, gw = torch.autograd.grad(loss2, [x, weight], create_graph=True)
    probe_input, probe_weight = torch.randn_like(x), torch.randn_like(weight)
    second = (gx * probe_input).sum() + (gw * probe_weight).sum()
    hx, hw = torch.autograd.grad(second, [x, weight])
    case = {
        "N": n, "C": c, "H": h, "W": w, "out_channels": out_channels,
        "kernel_size": list(kernel), "stride": list(stride), "padding": list(padding),
        "dilation": list(dilation), "groups": groups, "bias": bias,
        "weights": {"weight": tolist(weight)},
        "input": tolist(x), "output": tolist(y), "probe_output": tolist(probe),
        "loss": loss.item(),
        "grad": {"input": tolist(grads[0]), "weight": tolist(grads[1])},
        "second_order": {
            "probe_input": tolist(probe_input), "probe_weight": tolist(probe_weight),
            "input": tolist(hx), "weight": tolist(hw),
        },
    }
    if bias:
        case["weights"]["bias"] = tolist(b)
        case["grad"]["bias"] = tolist(grads[2])
    return case


def pool_case(n, c, h, w, kernel, stride, padding, dilation, ceil_mode):
    # small integers: many ties inside a window, so the tie rule is tested
    x = torch.randint(-3, 4, (n, c, h, w)).double().requires_grad_(True)
    y = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    probe = torch.randn_like(y)
    (gx,) = torch.autograd.grad((y * probe).sum(), [x])
    return {
        "kernel_size": list(kernel), "stride": list(stride), "padding": list(padding),
        "dilation": list(dilation), "ceil_mode": ceil_mode,
        "input": tolist(x), "output": tolist(y), "probe_output": tolist(probe),
        "grad": {"input": tolist(gx)},
    }


def batch_norm_case(n, c, h, w, momentum, steps):
    bn = torch.nn.BatchNorm2d(c, momentum=momentum)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(c) + 0.5)
        bn.bias.copy_(torch.randn(c))
    case = {"shape": [n, c, h, w], "momentum": momentum, "eps": bn.eps,
            "weight": tolist(bn.weight), "bias": tolist(bn.bias), "steps": []}
    bn.train()
    for step in range(steps):
        x = (torch.randn(n, c, h, w) * (step + 1) + step).requires_grad_(True)
        y = bn(x)
        probe = torch.randn_like(y)
        gx, gw, gb = torch.autograd.grad((y * probe).sum(), [x, bn.weight, bn.bias])
        case["steps"].append({
            "x": tolist(x), "y": tolist(y), "probe": tolist(probe),
            "running_mean": tolist(bn.running_mean), "running_var": tolist(bn.running_var),
            "num_batches_tracked": int(bn.num_batches_tracked),
            "grad": {"input": tolist(gx), "weight": tolist(gw), "bias": tolist(gb)},
        })
    bn.eval()
    x = torch.randn(n, c, h, w)
    case["x_eval"] = tolist(x)
    case["y_eval"] = tolist(bn(x))
    return case


reference = {
    "made_with": {"torch": torch.__version__},
    "conv2d": [
        conv_case(2, 4, 7, 6, 6, (3, 2), (2, 1), (1, 2), (2, 1), 2, True),
        conv_case(1, 3, 8, 9, 2, (2, 3), (1, 3), (0, 1), (1, 2), 1, False),
        conv_case(2, 6, 5, 5, 6, (3, 3), (1, 1), (1, 1), (1, 1), 3, True),
        conv_case(1, 2, 4, 4, 3, (1, 1), (2, 2), (0, 0), (1, 1), 1, True),
    ],
    "max_pool2d": [
        pool_case(2, 3, 6, 6, (2, 2), (2, 2), (0, 0), (1, 1), False),
        pool_case(1, 2, 7, 8, (3, 3), (2, 2), (1, 1), (1, 1), False),
        pool_case(1, 2, 7, 6, (3, 2), (2, 1), (1, 0), (2, 2), True),
        pool_case(2, 1, 5, 5, (2, 2), (2, 2), (1, 1), (1, 1), True),
    ],
    "batch_norm2d": [
        batch_norm_case(4, 3, 5, 4, 0.1, 3),
        batch_norm_case(2, 2, 3, 3, None, 3),
    ],
}

path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "conv_reference.json")
with open(path, "w") as f:
    json.dump(reference, f)
print("wrote", os.path.normpath(path))
