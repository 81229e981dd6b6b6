"""V-trace cases written as the IMPALA paper's explicit sums (Espeholt et al. 2018, eq. 1),
with the clip thresholds away from 1 and importance weights on both sides of every clip.

Run with numpy: `python make_vtrace_cases.py > vtrace_cases.json`.

Time-major (T, B). Each step has `terminated` and `truncated` flags; `next_values[t]` is
V(x_{t+1}) as the learner sees it (the value of the final observation at a truncation, the next
row's value inside an episode, a bootstrap value after the last step). Per step the discount
that multiplies V(x_{t+1}) is γ(1 − terminated); the trace is cut where the episode ends
(terminated or truncated):

  v_s  = V(x_s) + Σ_{t=s}^{e} γ^{t−s} (Π_{i=s}^{t−1} c_i) δ_t,   δ_t = ρ_t (r_t + γ_t V(x_{t+1}) − V(x_t))
  A_s  = ρ^pg_s (r_s + γ_s v'_{s+1} − V(x_s)),  v'_{s+1} = v_{s+1} inside the episode, else V(x_{s+1})

with ρ_t = min(ρ̄, π/μ), c_t = λ min(c̄, π/μ), ρ^pg_t = min(ρ̄_pg, π/μ), and e the last step of
the episode or of the sequence.
"""
import json

import numpy as np


def explicit(case):
    T, B = case["T"], case["B"]
    g, lam = case["gamma"], case["lambda"]
    ratio = np.exp(np.array(case["log_rhos"]))
    r = np.array(case["rewards"])
    V = np.array(case["values"])
    Vn = np.array(case["next_values"])
    term = np.array(case["terminated"])
    done = term | np.array(case["truncated"])
    rho = np.minimum(case["rho_bar"], ratio)
    c = lam * np.minimum(case["c_bar"], ratio)
    rho_pg = np.minimum(case["pg_rho_bar"], ratio)
    disc = g * (1.0 - term)
    delta = rho * (r + disc * Vn - V)
    vs = np.zeros((T, B))
    for b in range(B):
        for s in range(T):
            total, weight = V[s, b], 1.0
            for t in range(s, T):
                total += weight * delta[t, b]
                if done[t, b]:
                    break
                weight *= g * c[t, b]
            vs[s, b] = total
    adv = np.zeros((T, B))
    for b in range(B):
        for s in range(T):
            inside = s + 1 < T and not done[s, b]
            v_next = vs[s + 1, b] if inside else Vn[s, b]
            adv[s, b] = rho_pg[s, b] * (r[s, b] + disc[s, b] * v_next - V[s, b])
    return vs, adv


def make(seed, T, B, gamma, lam, rho_bar, c_bar, pg_rho_bar, boundaries):
    rng = np.random.default_rng(seed)
    # ratios on both sides of every threshold: log-ratios in [−2, 2]
    log_rhos = rng.uniform(-2.0, 2.0, (T, B))
    rewards = rng.normal(size=(T, B))
    values = rng.normal(size=(T, B))
    finals = rng.normal(size=(T, B))
    u = rng.uniform(size=(T, B))
    terminated = boundaries & (u < 0.15)
    truncated = boundaries & (u >= 0.15) & (u < 0.25)
    next_values = np.zeros((T, B))
    for t in range(T):
        for b in range(B):
            if truncated[t, b] or t + 1 == T:
                next_values[t, b] = finals[t, b]
            elif terminated[t, b]:
                # the next episode's first state: never read (γ_t = 0)
                next_values[t, b] = values[t + 1, b]
            else:
                next_values[t, b] = values[t + 1, b]
    case = dict(T=T, B=B, gamma=gamma, **{"lambda": lam}, rho_bar=rho_bar, c_bar=c_bar,
                pg_rho_bar=pg_rho_bar, log_rhos=log_rhos.tolist(), rewards=rewards.tolist(),
                values=values.tolist(), next_values=next_values.tolist(),
                terminated=terminated.tolist(), truncated=truncated.tolist())
    vs, adv = explicit(case)
    case["vs"], case["pg_advantages"] = vs.tolist(), adv.tolist()
    return case


cases = [
    make(1, 12, 3, 0.99, 1.0, 1.0, 1.0, 1.0, True),
    make(2, 12, 3, 0.97, 1.0, 2.0, 0.5, 1.5, True),
    make(3, 10, 2, 0.9, 0.95, 0.8, 1.2, 0.6, True),
    make(4, 16, 2, 0.99, 1.0, 1.5, 1.5, 1.0, False),
]
for case in cases:
    ratio = np.exp(np.array(case["log_rhos"]))
    for bar in {case["rho_bar"], case["c_bar"], case["pg_rho_bar"]}:
        assert (ratio < bar).any() and (ratio > bar).any()
print(json.dumps({"made_with": {"numpy": np.__version__}, "vtrace": cases}, indent=1))
