"""NeuralProgrammerAgent: hardmax choices of the trained model, played as the env's actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from agents.common.checkpoints import restoring
from agents.common.envs import env_ids
from agents.neural_programmer.checkpoint import CheckpointError, load_checkpoint, table_setting
from agents.neural_programmer.config import NPConfig
from agents.neural_programmer.model import PIVOTED, NeuralProgrammer, Question, featurize, stack_observations
from npi_gym.envs.table import OPERATIONS, STEPS


def _columns(setting: dict[str, Any]) -> int:
    return setting["numeric_columns"] + setting["text_columns"]


class NeuralProgrammerAgent:
    """Greedy Neural Programmer for one episode (``reset``/``act``) or many in lockstep (``*_batch``).

    At reset the question is encoded once (q, pivots, column names); each step takes the argmax
    operation and column allowed by the action mask, the argmax pivot of that operation, and feeds the
    one-hot choice to the history RNN, as at test time in the paper.
    """

    def __init__(self, model: NeuralProgrammer, env_id: str) -> None:
        self.model = model.eval()
        self.env_id = env_id
        self.slots: dict[int, dict[str, Any]] = {}

    @classmethod
    def load(cls, path: str | Path, env_id: str | None = None) -> NeuralProgrammerAgent:
        """The agent of a checkpoint, for ``env_id`` (default: the env it was trained on)."""
        ckpt = load_checkpoint(path)
        cfg = NPConfig.from_dict(ckpt["config"])
        env_id = env_id or cfg.env_id
        trained = ckpt["setting"]
        columns = trained["numeric_columns"] + trained["text_columns"]
        plays = ", ".join(i for i in env_ids(program_calls=False) if _columns(table_setting(i)) <= columns)
        try:
            setting = table_setting(env_id)
        except ValueError as e:
            raise CheckpointError(f"{path} cannot play {env_id} ({e}); it plays {plays}") from None
        if _columns(setting) > columns:
            raise CheckpointError(
                f"{path} was trained on tables of at most {columns} columns ({cfg.env_id}); {env_id} has wider tables "
                f"whose column names it never learned; it plays {plays}"
            )
        with restoring(path, "weights"):
            model = NeuralProgrammer(cfg)
            model.load_state_dict(ckpt["model"])
        return cls(model, env_id)

    def reset(self, obs: dict[str, Any], info: dict[str, Any]) -> None:
        self.reset_batch([0], [obs], [info])

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, int]:
        return self.act_batch([0], [obs], [info])[0]

    @torch.no_grad()
    def reset_batch(self, slots: Sequence[int], obs: Sequence[dict], infos: Sequence[dict]) -> None:
        question = self.model.encode(featurize(stack_observations(obs, infos)))
        for i, slot in enumerate(slots):
            self.slots[slot] = {"question": question[i], "h": question.q.new_zeros(self.model.history_rnn.hidden_size)}

    @torch.no_grad()
    def act_batch(self, slots: Sequence[int], obs: Sequence[dict], infos: Sequence[dict]) -> list[dict[str, int]]:
        """One step for each slot; slots at different steps (the observation's ``step``) are grouped."""
        steps = {slot: int(o["step"]) for slot, o in zip(slots, obs)}
        actions: dict[int, dict[str, int]] = {}
        for t in sorted(set(steps.values())):
            group = [s for s in slots if steps[s] == t]
            question = Question.stack([self.slots[s]["question"] for s in group])
            h = torch.stack([self.slots[s]["h"] for s in group])
            op_logits, col_logits = self.model.select(question, h, min(t, STEPS - 1))
            operation, column = op_logits.argmax(-1), col_logits.argmax(-1)
            h = self.model.advance(
                h,
                F.one_hot(operation, op_logits.shape[-1]).float(),
                F.one_hot(column, col_logits.shape[-1]).float(),
                question.names,
            )
            for i, slot in enumerate(group):
                op = int(operation[i])
                pivot = int(question.pivots[i, PIVOTED.index(OPERATIONS[op])].argmax()) if OPERATIONS[op] in PIVOTED else 0
                actions[slot] = {"operation": op, "column": int(column[i]), "pivot": pivot}
                self.slots[slot]["h"] = h[i]
        return [actions[s] for s in slots]
