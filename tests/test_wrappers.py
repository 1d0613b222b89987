"""FlatCalls, PreviousCall, RL libraries and RecordVideo on the scratch-pad envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from npi_gym import FlatCalls, PreviousCall
from npi_gym.traces import rollout
from tests.conftest import SCRATCH_PAD_IDS


@pytest.mark.parametrize("env_id", SCRATCH_PAD_IDS)
def test_flat_mask_is_exactly_the_table(env_id: str) -> None:
    env = FlatCalls(gym.make(env_id))
    _, info = env.reset(seed=0)
    base = env.unwrapped
    for _ in range(200):
        running = base.programs.names[base._frames[-1].call.program]
        allowed = {"RETURN", *base.programs.callees(running)}
        expected = [base.programs.names[c.program] in allowed for c in base.programs.calls]
        assert env.action_masks().tolist() == expected
        np.testing.assert_array_equal(info["action_mask"], env.action_masks().astype(np.int8))
        expert = base.expert_call()
        index = next(i for i, a in enumerate(env.calls) if base.action_to_call(a) == expert)
        assert env.action_masks()[index]
        _, _, terminated, truncated, info = env.step(index)
        if terminated or truncated:
            _, info = env.reset()


def test_flat_calls_is_the_whole_declared_call_set() -> None:
    env = FlatCalls(gym.make("NPI-Addition-v0"))
    texts = [env.unwrapped.programs.text(env.unwrapped.action_to_call(a)) for a in env.calls]
    assert len(texts) == len(set(texts)) == 1 + 5 + 8 + 20
    assert "ACT WRITE OUT 7" in texts and "ACT WRITE INP1 7" not in texts


def test_previous_call_tracks_the_running_programs_last_call() -> None:
    env = PreviousCall(gym.make("NPI-Addition-v0"))
    names = env.unwrapped.programs.names
    obs, _ = env.reset(options={"problem": (5, 7)})
    none = len(names)
    seen = [(names[int(obs["program"])], int(obs["prev_program"]))]
    for text in ["ADD1", "ACT WRITE OUT 2", "ACT PTR INP1 RIGHT", "CARRY", "RETURN"]:
        obs, *_ = env.step(env.unwrapped.call_to_action(text))
        prev = int(obs["prev_program"])
        seen.append((names[int(obs["program"])], names[prev] if prev < none else None))
    assert seen == [("ADD", none), ("ADD1", None), ("ADD1", "ACT"), ("ADD1", "ACT"), ("CARRY", None), ("ADD1", "CARRY")]
    assert env.observation_space.contains(obs)


@pytest.mark.parametrize(
    "env_id", ["NPI-Addition-v0", pytest.param("NPI-Sort-Recursive-v0", marks=pytest.mark.slow)]
)
def test_maskable_ppo_and_dqn_run(env_id: str) -> None:
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import DQN

    torch.set_num_threads(1)
    env = FlatCalls(gym.make(env_id, max_length=3))
    model = MaskablePPO("MultiInputPolicy", env, n_steps=256, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=2048)
    assert model.num_timesteps >= 2048
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, action_masks=env.action_masks(), deterministic=True)
    assert env.action_masks()[int(action)]
    dqn = DQN("MultiInputPolicy", env, learning_starts=200, buffer_size=2000, seed=0, device="cpu")
    dqn.learn(total_timesteps=2000)
    assert dqn.num_timesteps >= 2000


def test_record_video_writes_an_mp4(tmp_path) -> None:
    from gymnasium.wrappers import RecordVideo

    env = RecordVideo(gym.make("NPI-Addition-v0", render_mode="rgb_array"), str(tmp_path), episode_trigger=lambda e: True)
    rollout(env, seed=0, options={"problem": (96, 125)})
    env.close()
    videos = list(tmp_path.glob("*.mp4"))
    assert videos and videos[0].stat().st_size > 1000
