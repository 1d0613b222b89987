"""Record the step-by-step actions of every shipped checkpoint on fixed problems (tests/data/shipped_actions.json).

``test_shipped_agents.py`` replays the same problems and compares call by call, so a change that moves
code around cannot change what a shipped agent does. Run ``python tests/record_shipped_actions.py``
only when a shipped checkpoint is retrained on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

RECORDING = Path(__file__).parent / "data" / "shipped_actions.json"
ROOT = Path(__file__).resolve().parent.parent
# (checkpoint relative to the repository, episodes as (seed, reset options))
PROBLEMS: dict[str, list[tuple[int, dict[str, Any]]]] = {
    "agents/npi/pretrained/npi-addition.pt": [(s, {"length": n}) for s in range(3) for n in (1, 7, 25)],
    "agents/npi/pretrained/npi-addition-recursive.pt": [(s, {"length": n}) for s in range(3) for n in (1, 7, 25)],
    "agents/npi/pretrained/npi-sort.pt": [(s, {"length": n}) for s in range(3) for n in (2, 6, 12)],
    "agents/npi/pretrained/npi-sort-recursive.pt": [(s, {"length": n}) for s in range(3) for n in (2, 6, 12)],
    "agents/npi/pretrained/npi-canonicalize.pt": [(s, {}) for s in range(6)],
    "agents/neural_programmer/pretrained/1col.pt": [(s, {}) for s in range(25)],
    "agents/neural_programmer/pretrained/5col.pt": [(s, {}) for s in range(25)],
}


def plain(action: dict[str, Any]) -> list[int]:
    """An action as a flat list of ints, in the action space's key order."""
    return [int(x) for v in action.values() for x in np.ravel(v)]


def play(agent: Any, env: gym.Env, seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """One greedy episode; every action and the final reward."""
    obs, info = env.reset(seed=seed, options=options)
    agent.reset(obs, info)
    actions = []
    while True:
        action = agent.act(obs, info)
        actions.append(plain(action))
        obs, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return {"seed": seed, "options": options, "actions": actions, "reward": reward}


def record(load_agent: Any) -> dict[str, list[dict[str, Any]]]:
    """``load_agent(path) -> (agent, env)`` for each checkpoint; the episodes of every checkpoint."""
    out = {}
    for name, problems in PROBLEMS.items():
        agent, env = load_agent(ROOT / name)
        out[name] = [play(agent, env, seed, options) for seed, options in problems]
        env.close()
    return out


def load_shipped(path: Path) -> tuple[Any, gym.Env]:
    """The agent of a shipped checkpoint and an env to play it in (the Neural Programmer's on the test split)."""
    from agents.neural_programmer.agent import NeuralProgrammerAgent
    from agents.npi.agent import NPIAgent

    if path.parent.parent.name == "npi":
        agent = NPIAgent.load(path)
        return agent, gym.make(agent.env_id, **agent.env_kwargs)
    agent = NeuralProgrammerAgent.load(path)
    return agent, gym.make(agent.env_id, split="test")


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    RECORDING.parent.mkdir(exist_ok=True)
    RECORDING.write_text(json.dumps(record(load_shipped), separators=(",", ":")) + "\n")
    print(f"wrote {RECORDING}")
