#!/usr/bin/env python3
"""Stable-Baselines3 reference speeds on one CPU core.

Usage
-----
    python sb3_speed.py all --out results.json      # every case, one at a time, each in a
                                                    # fresh child process run as
                                                    # `taskset -c 1 python sb3_speed.py CASE --seed N`
    taskset -c 1 python sb3_speed.py sac256 --seed 0   # one case; prints one JSON object

Cases: sac256, sac64 (SAC on Pendulum-v1) and ppo (PPO on CartPole-v1).

Threads: the child sets OMP_NUM_THREADS=1 and MKL_NUM_THREADS=1 before torch is imported,
calls torch.set_num_threads(1), and the driver pins it to core 1 with `taskset -c 1`.
Each child records the affinity and torch's thread count so the result shows that this
held.

SAC (Pendulum-v1)
-----------------
SB3's SAC defaults plus rl-baselines3-zoo's Pendulum-v1 preset (learning_rate 1e-3):
MlpPolicy, net_arch [256, 256] (case sac256) or policy_kwargs=dict(net_arch=[64, 64])
(case sac64), buffer_size 1e6, learning_starts 100, batch_size 256, train_freq 1,
gradient_steps 1, tau 0.005, gamma 0.99, ent_coef "auto". One environment
(make_vec_env: DummyVecEnv + Monitor), device "cpu", verbose 0.

Method: a fresh model runs learn(total_timesteps=3000) once. A callback takes a
timestamp (perf_counter for wall time, process_time for CPU time) in its on_step at env
step 500 and again at env step 3000. SB3 calls on_step right after each env step and
before the gradient step that follows it, so the window holds exactly 2500 env steps
(501..3000) and 2500 gradient steps (the ones after steps 500..2999). Steps 1..500
(the 100 random warm-up steps, then the first 400 gradient steps, which include the
allocation of the 1e6 buffer and torch's first-call costs) are left out as warm-up.
    env steps/s = gradient steps/s = 2500 / window wall time
(with train_freq=1 and gradient_steps=1 the two rates are the same number: each env step
is followed by one gradient step). The time spent inside SAC.train() during the window is
also measured, by wrapping model.train, and gives
    train-only gradient steps/s = 2500 / time inside train()
and the rest of the window (acting with the actor, stepping the env, storing in the
buffer, SB3 bookkeeping) is reported as "collect" time. The wall time of the whole
learn() call is also recorded.

PPO (CartPole-v1)
-----------------
rl-baselines3-zoo's tuned CartPole-v1 preset: n_envs 8 (make_vec_env, DummyVecEnv),
n_steps 32, batch_size 256, gae_lambda 0.8, gamma 0.98, n_epochs 20, ent_coef 0.0,
learning_rate linear from 1e-3, clip_range linear from 0.2 (the zoo's lin_ schedule:
progress_remaining * initial value), default MlpPolicy (64-64, tanh), device "cpu".
The wall time (and CPU time) of one learn(total_timesteps=100_000) call is measured;
model construction is outside the timed region. SB3 rounds up to whole rollouts, so
100_096 env steps (391 rollouts of 8 x 32) and 391 x 20 = 7820 gradient steps are run.
Then the final policy is evaluated deterministically over 10 episodes
(evaluate_policy on a fresh CartPole-v1 Monitor env seeded with seed + 1000) and the
mean and every episode's return are reported.
"""

import argparse
import json
import os
import subprocess
import sys
import time

CASES = ("sac256", "sac64", "ppo")


def _pin_threads():
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"


def _loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def _env_info():
    import platform

    import gymnasium
    import numpy
    import stable_baselines3
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "gymnasium": gymnasium.__version__,
        "numpy": numpy.__version__,
        "torch_num_threads": torch.get_num_threads(),
        "torch_num_interop_threads": torch.get_num_interop_threads(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS"),
    }


def run_sac(net_arch, seed, total=3000, t0_step=500):
    import torch
    from stable_baselines3 import SAC
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(1)

    class Stamp(BaseCallback):
        def __init__(self):
            super().__init__()
            self.stamps = {}

        def _on_step(self):
            if self.num_timesteps in (t0_step, total):
                self.stamps[self.num_timesteps] = (
                    time.perf_counter(),
                    time.process_time(),
                    model.train_time,
                    model.train_calls,
                )
            return True

    env = make_vec_env("Pendulum-v1", n_envs=1, seed=seed)
    policy_kwargs = None if net_arch is None else dict(net_arch=list(net_arch))
    model = SAC(
        "MlpPolicy",
        env,
        learning_rate=1e-3,
        buffer_size=1_000_000,
        learning_starts=100,
        batch_size=256,
        train_freq=1,
        gradient_steps=1,
        policy_kwargs=policy_kwargs,
        seed=seed,
        device="cpu",
        verbose=0,
    )

    # Time spent inside SAC.train(): wrap the bound method.
    model.train_time = 0.0
    model.train_calls = 0
    inner_train = model.train

    def timed_train(*args, **kwargs):
        t = time.perf_counter()
        inner_train(*args, **kwargs)
        model.train_time += time.perf_counter() - t
        model.train_calls += 1

    model.train = timed_train

    cb = Stamp()
    load_before = _loadavg()
    w0, c0 = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=total, callback=cb)
    w1, c1 = time.perf_counter(), time.process_time()
    load_after = _loadavg()

    (wa, ca, ta, na), (wb, cb_, tb, nb) = cb.stamps[t0_step], cb.stamps[total]
    window_env_steps = total - t0_step
    window_grad_steps = nb - na
    wall = wb - wa
    cpu = cb_ - ca
    train = tb - ta
    return {
        "net_arch": list(net_arch) if net_arch else [256, 256],
        "seed": seed,
        "total_timesteps": total,
        "window": [t0_step, total],
        "window_env_steps": window_env_steps,
        "window_grad_steps": window_grad_steps,
        "window_wall_s": wall,
        "window_cpu_s": cpu,
        "window_train_s": train,
        "window_collect_s": wall - train,
        "env_steps_per_s": window_env_steps / wall,
        "grad_steps_per_s": window_grad_steps / wall,
        "grad_steps_per_cpu_s": window_grad_steps / cpu,
        "train_only_grad_steps_per_s": window_grad_steps / train,
        "learn_wall_s": w1 - w0,
        "learn_cpu_s": c1 - c0,
        "total_grad_steps": model.train_calls,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }


def run_ppo(seed, total=100_000):
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor

    import gymnasium as gym

    torch.set_num_threads(1)

    def linear_schedule(initial_value):
        # rl-baselines3-zoo's "lin_<value>": progress_remaining goes 1 -> 0.
        def f(progress_remaining):
            return progress_remaining * initial_value

        return f

    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=32,
        batch_size=256,
        gae_lambda=0.8,
        gamma=0.98,
        n_epochs=20,
        ent_coef=0.0,
        learning_rate=linear_schedule(1e-3),
        clip_range=linear_schedule(0.2),
        seed=seed,
        device="cpu",
        verbose=0,
    )
    load_before = _loadavg()
    w0, c0 = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=total)
    w1, c1 = time.perf_counter(), time.process_time()
    load_after = _loadavg()

    eval_env = Monitor(gym.make("CartPole-v1"))
    eval_env.reset(seed=seed + 1000)
    returns, lengths = evaluate_policy(
        model, eval_env, n_eval_episodes=10, deterministic=True, return_episode_rewards=True
    )
    rollouts = model.num_timesteps // (8 * 32)
    return {
        "seed": seed,
        "total_timesteps_requested": total,
        "env_steps_run": model.num_timesteps,
        "rollouts": rollouts,
        "grad_steps": rollouts * 20 * ((8 * 32) // 256),
        "learn_wall_s": w1 - w0,
        "learn_cpu_s": c1 - c0,
        "env_steps_per_s": model.num_timesteps / (w1 - w0),
        "eval_episodes": 10,
        "eval_deterministic": True,
        "eval_returns": [float(r) for r in returns],
        "eval_mean_return": float(sum(returns) / len(returns)),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }


def child(case, seed):
    _pin_threads()
    import torch

    torch.set_num_threads(1)
    info = _env_info()
    if case == "sac256":
        res = run_sac(None, seed)
    elif case == "sac64":
        res = run_sac([64, 64], seed)
    elif case == "ppo":
        res = run_ppo(seed)
    else:
        raise SystemExit(f"unknown case {case}")
    res["case"] = case
    res["env"] = info
    print(json.dumps(res))


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def driver(out, repeats, core):
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    plan = [("sac256", s) for s in range(repeats)] + [("sac64", s) for s in range(repeats)]
    plan.append(("ppo", 0))
    runs = []
    for case, seed in plan:  # strictly one at a time
        cmd = ["taskset", "-c", str(core), sys.executable, os.path.abspath(__file__), case,
               "--seed", str(seed)]
        print("running:", " ".join(cmd), file=sys.stderr, flush=True)
        p = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        r = json.loads(p.stdout.strip().splitlines()[-1])
        runs.append(r)
        brief = {k: r[k] for k in ("env_steps_per_s", "learn_wall_s") if k in r}
        if case.startswith("sac"):
            brief["train_only_grad_steps_per_s"] = r["train_only_grad_steps_per_s"]
        else:
            brief["eval_mean_return"] = r["eval_mean_return"]
        print(f"  {case} seed {seed}: {brief}", file=sys.stderr, flush=True)

    summary = {}
    for case in ("sac256", "sac64"):
        rs = [r for r in runs if r["case"] == case]
        summary[case] = {
            k: {"runs": [r[k] for r in rs], "median": median([r[k] for r in rs])}
            for k in ("env_steps_per_s", "grad_steps_per_s", "grad_steps_per_cpu_s",
                      "train_only_grad_steps_per_s", "window_wall_s", "window_train_s",
                      "window_collect_s", "learn_wall_s")
        }
    ppo = [r for r in runs if r["case"] == "ppo"][0]
    summary["ppo"] = {k: ppo[k] for k in ("learn_wall_s", "learn_cpu_s", "env_steps_per_s",
                                          "eval_mean_return", "eval_returns")}
    doc = {"summary": summary, "env": runs[0]["env"], "core": core, "runs": runs}
    with open(out, "w") as f:
        json.dump(doc, f, indent=2)
    print(json.dumps(summary, indent=2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("case", choices=CASES + ("all",))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--core", type=int, default=1)
    ap.add_argument("--out", default="results.json")
    a = ap.parse_args()
    if a.case == "all":
        driver(a.out, a.repeats, a.core)
    else:
        child(a.case, a.seed)


if __name__ == "__main__":
    main()
