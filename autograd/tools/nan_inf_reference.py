"""PyTorch's values, gradients and Hessian-vector products at NaN, infinities, zeros, kink
points and empty axes: the reference data of autograd/tests/nan_inf.rs.

For every case `f` with inputs `x_1 … x_n` (float64) the file holds

    x i                     the input x_i
    y                       f(x)
    grad i                  ∂(Σ y)/∂x_i                        (one backward pass)
    hvp i                   ∂(Σ_j ⟨∂(Σ y)/∂x_j, 1⟩)/∂x_i        (a second pass over the first,
                                                                 recorded with create_graph)

one line each: `case<TAB>kind<TAB>shape<TAB>values`, shape as comma-separated sizes (empty for a
0-d value), values space-separated in row-major order as Python prints floats (`nan`, `inf`,
`-inf`). A gradient that PyTorch reports as unused (None) is written as zeros, which is what
the engine returns for an input the output does not depend on.

Run from the repository root (needs torch; the Rust tests never run Python):

    python autograd/tools/nan_inf_reference.py > autograd/tests/data/nan_inf_cases.tsv

The Rust test names each case the same way and evaluates the same function with the engine.
"""

import math
import sys
import warnings

import torch
import torch.nn.functional as F

nan, inf = math.nan, math.inf
CASES = []


def case(name, *inputs):
    def register(f):
        CASES.append((name, f, inputs))
        return f

    return register


SPECIAL = [nan, inf, -inf, 0.0, 1.5, -1.5]

case("relu", SPECIAL)(lambda x: torch.relu(x))
case("leaky_relu", SPECIAL)(lambda x: F.leaky_relu(x, 0.1))
case("elu_1", SPECIAL)(lambda x: F.elu(x, 1.0))
case("elu_0.5", SPECIAL)(lambda x: F.elu(x, 0.5))
case("clamp", [nan, inf, -inf, -1.0, 1.0, 0.5, -2.0, 2.0])(lambda x: torch.clamp(x, -1.0, 1.0))
case("clamp_cubed", [-1.0, 1.0, 0.5, -2.0])(lambda x: torch.clamp(x, -1.0, 1.0) ** 3)
case("clamp_point", [0.5, 0.25, 0.75, nan])(lambda x: torch.clamp(x, 0.5, 0.5))

PAIR_A = [nan, 1.0, 1.0, nan, 2.0, inf, -inf, 3.0]
PAIR_B = [1.0, nan, 1.0, nan, inf, inf, -inf, 1.0]
case("maximum", PAIR_A, PAIR_B)(lambda a, b: torch.maximum(a, b))
case("minimum", PAIR_A, PAIR_B)(lambda a, b: torch.minimum(a, b))

POW_BASE = [0.0, 2.0, -1.5, nan, inf]
for p in [0.0, 1.0, 2.0, -1.0, 3.0]:
    case(f"pow_scalar_{p:g}", POW_BASE)(lambda x, p=p: torch.pow(x, p))
case("pow_scalar_0.5", [0.0, 2.0, inf])(lambda x: torch.pow(x, 0.5))
case("pow_scalar_2.5", [0.0, 2.0, inf])(lambda x: torch.pow(x, 2.5))
case(
    "pow_tensor",
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 2.0, -1.0],
    [0.0, 1.0, 2.0, -1.0, 0.5, -0.5, 0.0, 1.5, 2.0],
)(lambda a, b: torch.pow(a, b))

case("var_inf", [1.0, inf, 2.0])(lambda x: torch.var(x, correction=1))
case("var_nan", [1.0, nan, 2.0])(lambda x: torch.var(x, correction=1))
case("var_one_element", [3.0])(lambda x: torch.var(x, correction=1))
case("var_two_short", [3.0, 4.0])(lambda x: torch.var(x, correction=2))
case("var_population_one", [3.0])(lambda x: torch.var(x, correction=0))

EMPTY = torch.zeros(2, 0, dtype=torch.float64).tolist()
case("logsumexp_empty", EMPTY)(lambda x: torch.logsumexp(x, dim=1))
case("softmax_empty", EMPTY)(lambda x: torch.softmax(x, dim=1))
case("log_softmax_empty", EMPTY)(lambda x: torch.log_softmax(x, dim=1))
ROWS = [[1.0, inf], [-inf, -inf], [nan, 1.0], [inf, inf], [-inf, 0.0]]
case("logsumexp_special", ROWS)(lambda x: torch.logsumexp(x, dim=1))
case("softmax_special", ROWS)(lambda x: torch.softmax(x, dim=1))

case("abs", [nan, 0.0, inf, -inf, -2.0])(lambda x: torch.abs(x))
case("sqrt", [0.0, inf, nan, 4.0, -1.0])(lambda x: torch.sqrt(x))
case("log", [0.0, inf, nan, -1.0])(lambda x: torch.log(x))
case("log1p", [-1.0, inf, nan, -2.0])(lambda x: torch.log1p(x))
case("exp", [inf, -inf, nan])(lambda x: torch.exp(x))
case("tanh", [inf, -inf, nan, 0.0])(lambda x: torch.tanh(x))
case("sigmoid", [inf, -inf, nan, 0.0])(lambda x: torch.sigmoid(x))
case("softplus", [inf, -inf, nan, 0.0])(lambda x: F.softplus(x))
case("sin", [inf, nan])(lambda x: torch.sin(x))
case("max_reduce", [[1.0, nan, 2.0], [3.0, 3.0, 1.0], [inf, 1.0, inf]])(
    lambda x: torch.amax(x, dim=1)
)
case("min_reduce", [[1.0, nan, 2.0], [1.0, 3.0, 1.0], [-inf, 1.0, -inf]])(
    lambda x: torch.amin(x, dim=1)
)
case("mean_inf", [1.0, inf, 2.0])(lambda x: torch.mean(x))
case(
    "div",
    [1.0, 0.0, -1.0, 0.0, inf, nan],
    [0.0, 0.0, 0.0, inf, inf, 1.0],
)(lambda a, b: a / b)
case("mul", [0.0, inf, nan], [inf, 0.0, 1.0])(lambda a, b: a * b)


def fmt(t):
    t = t.detach()
    if t._is_zerotensor():  # PyTorch's "efficient zeros" have no storage to print
        t = torch.zeros(t.shape, dtype=t.dtype)
    shape = ",".join(str(s) for s in t.shape)
    values = " ".join(repr(float(v)) for v in t.reshape(-1).tolist())
    return f"{shape}\t{values}"


def main():
    out = sys.stdout
    out.write(f"# PyTorch {torch.__version__}, float64; made by autograd/tools/nan_inf_reference.py\n")
    for name, f, raw in CASES:
        xs = [torch.tensor(r, dtype=torch.float64, requires_grad=True) for r in raw]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = f(*xs)
            first = torch.autograd.grad(y.sum(), xs, create_graph=True, allow_unused=True)
            grads = [torch.zeros_like(x) if g is None else g for g, x in zip(first, xs)]
            second = sum((g.sum() for g in grads if g.requires_grad), torch.zeros((), dtype=torch.float64))
            if second.requires_grad:
                hvps = torch.autograd.grad(second, xs, allow_unused=True)
            else:
                hvps = [None] * len(xs)
        hvps = [torch.zeros_like(x) if h is None else h for h, x in zip(hvps, xs)]
        for i, x in enumerate(xs):
            out.write(f"{name}\tx {i}\t{fmt(x)}\n")
        out.write(f"{name}\ty\t{fmt(y)}\n")
        for i, g in enumerate(grads):
            out.write(f"{name}\tgrad {i}\t{fmt(g)}\n")
        for i, h in enumerate(hvps):
            out.write(f"{name}\thvp {i}\t{fmt(h)}\n")


if __name__ == "__main__":
    main()
