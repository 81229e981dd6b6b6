"""sb3-contrib's RecurrentPPO on CartPoleNoVel-v1 with the settings of wengert's preset
(`rl/presets/recurrent_ppo.toml`: rl-baselines3-zoo's ppo_lstm.yml CartPoleNoVel-v1 with
lstm_hidden_size 64 unless --lstm-hidden-size says otherwise), timed on one thread.

    taskset -c 0 python sb3_recurrent_ppo.py --steps 10240 --seed 1

Prints one JSON line: wall seconds of `learn(steps)` (model construction excluded), env
steps/s, CPU seconds, versions. CartPoleNoVel-v1 is CartPole-v1 with the observation cut to
(x, θ), as rl-zoo's `MaskVelocityWrapper`.
"""

import argparse
import json
import os
import time

import gymnasium as gym
import numpy as np
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.env_util import make_vec_env


class MaskVelocity(gym.ObservationWrapper):
    """Keeps cart position and pole angle (indices 0 and 2) of CartPole's observation."""

    def __init__(self, env):
        super().__init__(env)
        low, high = env.observation_space.low[[0, 2]], env.observation_space.high[[0, 2]]
        self.observation_space = gym.spaces.Box(low, high, dtype=np.float32)

    def observation(self, observation):
        return observation[[0, 2]].astype(np.float32)


def linear(initial):
    return lambda progress_remaining: progress_remaining * initial


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10240)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lstm-hidden-size", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    env = make_vec_env(lambda: MaskVelocity(gym.make("CartPole-v1")), n_envs=8, seed=args.seed)
    model = RecurrentPPO(
        "MlpLstmPolicy",
        env,
        n_steps=32,
        batch_size=256,
        gae_lambda=0.8,
        gamma=0.98,
        n_epochs=20,
        ent_coef=0.0,
        learning_rate=linear(1e-3),
        clip_range=linear(0.2),
        policy_kwargs=dict(lstm_hidden_size=args.lstm_hidden_size),
        seed=args.seed,
        device="cpu",
    )
    cpu0, wall0 = time.process_time(), time.perf_counter()
    model.learn(args.steps)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    import sb3_contrib

    print(
        json.dumps(
            {
                "steps": model.num_timesteps,
                "lstm_hidden_size": args.lstm_hidden_size,
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "env_steps_per_s": round(model.num_timesteps / wall, 1),
                "affinity": sorted(os.sched_getaffinity(0)),
                "torch_threads": torch.get_num_threads(),
                "sb3_contrib": sb3_contrib.__version__,
                "torch": torch.__version__,
                "gymnasium": gym.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
