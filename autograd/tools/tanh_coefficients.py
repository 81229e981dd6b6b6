"""The polynomial coefficients of the f32 tanh kernel, autograd/src/tanh.rs.

Near-minimax fits (Lawson-reweighted least squares on Chebyshev nodes, reference values from
mpmath at 40 digits), rounded to f32:

    q(s), with tanh(a) = a + a^3 q(a^2) for 0 <= a < T1           (weighted by s: the error
                                                                   that matters is a^3 dq)
    c(r), with e^r - 1 = r + r^2 c(r) for |r| <= ln(2)/2          (weighted by |r|)

Run: python tanh_coefficients.py 0.625 5 5   (T1, degree of q, degree of c; needs numpy and
mpmath). The kernel's accuracy with these coefficients is checked over every f32 by the
ignored test `tanh::tests::every_f32_is_within_one_ulp`.
"""
import numpy as np, mpmath as mp, sys
mp.mp.dps = 40
def lawson(xs, f, w, deg, iters=60):
    V = np.vander(xs, deg + 1, increasing=True)
    u = np.ones_like(xs) / len(xs)
    for _ in range(iters):
        W = np.sqrt(u) * w
        c, *_ = np.linalg.lstsq(V * W[:, None], f * W, rcond=None)
        e = np.abs((V @ c - f) * w)
        u = u * e; u /= u.sum()
    return c, np.max(np.abs((V @ c - f) * w))
T1 = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5625
dq = int(sys.argv[2]) if len(sys.argv) > 2 else 6
dc = int(sys.argv[3]) if len(sys.argv) > 3 else 5
n = 4000
t = np.cos(np.pi * (np.arange(n) + 0.5) / n)
s = (t + 1) / 2 * T1 * T1
q = np.array([float((mp.tanh(mp.sqrt(mp.mpf(x))) - mp.sqrt(mp.mpf(x))) / mp.mpf(x) ** mp.mpf(1.5)) if x > 0 else -1/3 for x in s])
# error that matters: a^3 (q~ - q) relative to tanh(a) ~ a: weight s
cq, eq = lawson(s, q, s, dq)
R = float(mp.log(2) / 2)
r = t * R
c = np.array([float((mp.expm1(mp.mpf(x)) - mp.mpf(x)) / mp.mpf(x) ** 2) if x != 0 else 0.5 for x in r])
# relative to e^r - 1 ~ r: weight |r|
cc, ec = lawson(r, c, np.abs(r), dc)
print(f"// T1 = {T1}: q degree {dq} (max weighted error {eq:.2e}), c degree {dc} ({ec:.2e})")
print("Q:", ", ".join(repr(float(np.float32(v))) for v in cq))
print("C:", ", ".join(repr(float(np.float32(v))) for v in cc))
