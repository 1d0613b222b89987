"""agents/ names no env id or id prefix: the agents learn what an env is from its spaces and its checkpoint."""

from __future__ import annotations

from pathlib import Path

import npi_gym

AGENTS = Path(__file__).resolve().parent.parent / "agents"
HYPERPARAMS = AGENTS / "baselines" / "hyperparams"
"""rl-zoo3-style data keyed by env id (as rl-zoo3's own hyperparams/*.yml are): exempt, the code reads no id"""
TEXT = {".py", ".json", ".csv", ".md", ".toml", ".yml", ".yaml", ".txt"}


def _prefixes(env_id: str) -> set[str]:
    """``NPI-Table-5Col-v0`` -> its family prefixes ``NPI-Table`` and ``NPI-Table-5Col`` (and the id)."""
    parts = env_id.removesuffix("-v0").split("-")
    return {"-".join(parts[:n]) for n in range(2, len(parts) + 1)} | {env_id}


def test_no_env_id_or_prefix_in_agents() -> None:
    names = set().union(*map(_prefixes, npi_gym.ENV_IDS))
    assert {"NPI-Addition", "NPI-Table", "NPI-Sort", "NPI-Canonicalize"} <= names
    files = [p for p in AGENTS.rglob("*") if p.suffix in TEXT and "__pycache__" not in p.parts and HYPERPARAMS not in p.parents]
    assert any(p.suffix == ".json" for p in files) and len(files) > 20
    found = [f"{p.relative_to(AGENTS)}: {name}" for p in files for name in sorted(names) if name in p.read_text()]
    assert not found, found
