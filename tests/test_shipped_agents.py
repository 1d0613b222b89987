"""Every shipped checkpoint plays exactly the actions recorded in tests/data/shipped_actions.json."""

from __future__ import annotations

import json

import pytest

from tests.record_shipped_actions import PROBLEMS, RECORDING, ROOT, load_shipped, play

RECORDED = json.loads(RECORDING.read_text())


@pytest.mark.parametrize("checkpoint", list(PROBLEMS))
def test_shipped_checkpoint_replays_its_recorded_actions(checkpoint: str) -> None:
    agent, env = load_shipped(ROOT / checkpoint)
    try:
        for (seed, options), recorded in zip(PROBLEMS[checkpoint], RECORDED[checkpoint], strict=True):
            episode = play(agent, env, seed, options)
            assert episode["actions"] == recorded["actions"], f"{checkpoint}: seed {seed}, options {options}"
            assert episode["reward"] == recorded["reward"]
    finally:
        env.close()
