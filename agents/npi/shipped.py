"""The NPI checkpoints shipped in ``pretrained/``, and the demo's table of them (``pretrained/demo.json``)."""

from __future__ import annotations

import json
from pathlib import Path

PRETRAINED = Path(__file__).parent / "pretrained"
DEMO = PRETRAINED / "demo.json"
"""checkpoint file name -> the task's label, and the lengths and episodes per length the demo plays"""


def pretrained_path(env_id: str) -> Path:
    """Where the shipped checkpoint for ``env_id`` lives."""
    return PRETRAINED / f"{env_id.removesuffix('-v0').lower()}.pt"


def demo_table() -> str:
    """Evaluate the shipped agents of ``demo.json`` far beyond their training lengths; the table as text."""
    import torch

    from agents.base import evaluate
    from agents.npi.agent import NPIAgent

    torch.set_num_threads(1)
    lines = [
        "Shipped NPI agents, trained on lengths up to 20, run greedily through env.step on fresh problems:",
        "",
        "| task | length | solved | mean steps | seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in json.loads(DEMO.read_text()).items():
        agent = NPIAgent.load(PRETRAINED / name)
        for r in evaluate(agent, agent.env_id, row["lengths"], row["episodes"], **agent.env_kwargs):
            lines.append(f"| {row['task']} | {r.length} | {r.solved}/{r.episodes} | {r.mean_steps:.0f} | {r.seconds:.1f} |")
    return "\n".join(lines)
