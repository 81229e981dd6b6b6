"""sb3-contrib's RecurrentPPO on CartPoleNoVel-v1 with rl-baselines3-zoo's hyperparams/ppo_lstm.yml
settings (the same as wengert's preset `rl/presets/recurrent_ppo.toml`): VecNormalize
(observations and rewards, gamma 0.98), 8 envs x 32 steps, batch 256, 20 epochs, lin_0.001,
lin_0.2, gae_lambda 0.8, MlpLstmPolicy with ortho_init=False, ReLU, 64 LSTM units, a critic
LSTM, net_arch pi=[64], vf=[64]. Timed on one thread.

    taskset -c 1 python sb3_recurrent_ppo.py --steps 100000 --seed 1 --eval-episodes 10

Prints one JSON line: wall seconds of `learn(steps)` (model construction excluded), env
steps/s, CPU seconds, the deterministic evaluation returns (frozen observation statistics, as
rl-zoo's enjoy/evaluation), versions. CartPoleNoVel-v1 is CartPole-v1 with the observation cut
to (x, θ), as rl-zoo's `MaskVelocityWrapper`.
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
from stable_baselines3.common.vec_env import VecNormalize


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


def evaluate(model, train_env, make, episodes, seed):
    """Deterministic returns of `episodes` episodes, observations normalised with the training
    statistics frozen (VecNormalize training=False, norm_reward=False)."""
    if episodes == 0:
        return []
    env = VecNormalize(make_vec_env(make, n_envs=1, seed=10000 + seed), training=False, norm_reward=False)
    env.obs_rms = train_env.obs_rms
    returns = []
    for _ in range(episodes):
        obs, state, start, total, done = env.reset(), None, np.ones((1,), dtype=bool), 0.0, False
        while not done:
            action, state = model.predict(obs, state=state, episode_start=start, deterministic=True)
            obs, reward, dones, _ = env.step(action)
            total, done, start = total + float(reward[0]), bool(dones[0]), dones
        returns.append(total)
    return returns


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10240)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lstm-hidden-size", type=int, default=64)
    parser.add_argument("--eval-episodes", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    make = lambda: MaskVelocity(gym.make("CartPole-v1"))  # noqa: E731
    env = VecNormalize(make_vec_env(make, n_envs=8, seed=args.seed), gamma=0.98)
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
        policy_kwargs=dict(
            ortho_init=False,
            activation_fn=torch.nn.ReLU,
            lstm_hidden_size=args.lstm_hidden_size,
            enable_critic_lstm=True,
            net_arch=dict(pi=[64], vf=[64]),
        ),
        seed=args.seed,
        device="cpu",
    )
    cpu0, wall0 = time.process_time(), time.perf_counter()
    model.learn(args.steps)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    import sb3_contrib

    returns = evaluate(model, env, make, args.eval_episodes, args.seed)

    print(
        json.dumps(
            {
                "steps": model.num_timesteps,
                "lstm_hidden_size": args.lstm_hidden_size,
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "env_steps_per_s": round(model.num_timesteps / wall, 1),
                "eval_returns": returns,
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
