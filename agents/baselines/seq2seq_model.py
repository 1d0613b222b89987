"""The sequence-to-sequence LSTM of both papers' baselines: encoder, decoder, optional attention heads, aligned mode.

Input token 0 is padding; output token 0 ends a sequence (EOS). A ``Batch`` holds padded inputs (with an
optional number per input step, for table cells), padded targets and their lengths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

EOS = 0
PAD = 0


@dataclass
class Batch:
    """Padded inputs ``[B, T]`` (+ ``values`` ``[B, T]``), targets ``[B, U]`` (EOS-terminated, padded with -1)."""

    inputs: torch.Tensor
    lengths: torch.Tensor
    values: torch.Tensor | None = None
    targets: torch.Tensor | None = None


def make_batch(
    inputs: Sequence[np.ndarray], targets: Sequence[np.ndarray] | None = None, values: Sequence[np.ndarray] | None = None
) -> Batch:
    """Pad token sequences into a ``Batch`` (targets get EOS appended unless aligned ones are given at full length)."""
    lengths = torch.tensor([len(x) for x in inputs])
    width = int(lengths.max())
    padded = torch.zeros(len(inputs), width, dtype=torch.long)
    numbers = torch.zeros(len(inputs), width) if values is not None else None
    for i, x in enumerate(inputs):
        padded[i, : len(x)] = torch.as_tensor(x)
        if numbers is not None:
            numbers[i, : len(x)] = torch.as_tensor(values[i], dtype=torch.float32)
    target = None
    if targets is not None:
        target = torch.full((len(targets), max(len(t) for t in targets)), -1, dtype=torch.long)
        for i, t in enumerate(targets):
            target[i, : len(t)] = torch.as_tensor(t)
    return Batch(padded, lengths, numbers, target)


class Seq2Seq(nn.Module):
    """LSTM encoder and decoder (``layers`` x ``hidden``), the decoder started from the encoder's final state.

    ``heads`` > 0: each decoder state attends over the encoder's states with that many heads (Luong-style,
    the context joined to the state before the output layer). ``aligned``: no decoder; the encoder emits one
    output token per input step (the NPI paper's aligned addition, both digits of a column fed together).
    ``numeric``: each input step also carries a number (a table cell's value), added through a linear map.
    """

    def __init__(
        self, vocab_in: int, vocab_out: int, hidden: int, layers: int, embed: int,
        heads: int = 0, aligned: bool = False, numeric: bool = False, head_dim: int = 64,
    ) -> None:
        super().__init__()
        self.aligned, self.heads, self.head_dim, self.vocab_out = aligned, heads, head_dim, vocab_out
        self.embed_in = nn.Embedding(vocab_in, embed, padding_idx=PAD)
        self.value_in = nn.Linear(1, embed) if numeric else None
        self.encoder = nn.LSTM(embed, hidden, layers, batch_first=True)
        width = hidden
        if not aligned:
            self.embed_out = nn.Embedding(vocab_out + 1, embed)  # the last id is GO
            self.decoder = nn.LSTM(embed, hidden, layers, batch_first=True)
            if heads:
                self.query = nn.Linear(hidden, heads * head_dim, bias=False)
                self.key = nn.Linear(hidden, heads * head_dim, bias=False)
                self.value = nn.Linear(hidden, heads * head_dim, bias=False)
                width = hidden + heads * head_dim
        self.out = nn.Linear(width, vocab_out)

    def encode(self, batch: Batch) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        x = self.embed_in(batch.inputs)
        if self.value_in is not None and batch.values is not None:
            x = x + self.value_in(batch.values[..., None])
        packed = nn.utils.rnn.pack_padded_sequence(x, batch.lengths, batch_first=True, enforce_sorted=False)
        states, final = self.encoder(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(states, batch_first=True, total_length=batch.inputs.shape[1])
        return states, final

    def _readout(self, h: torch.Tensor, memory: torch.Tensor | None, mask: torch.Tensor) -> torch.Tensor:
        """Output logits from decoder states ``[B, U, H]`` (with attention over ``memory`` ``[B, T, H]``)."""
        if not self.heads or memory is None:
            return self.out(h)
        B, U, T = h.shape[0], h.shape[1], memory.shape[1]
        q = self.query(h).view(B, U, self.heads, self.head_dim).transpose(1, 2)
        k = self.key(memory).view(B, T, self.heads, self.head_dim).transpose(1, 2)
        v = self.value(memory).view(B, T, self.heads, self.head_dim).transpose(1, 2)
        scores = (q @ k.transpose(-1, -2)) / self.head_dim**0.5
        scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, U, self.heads * self.head_dim)
        return self.out(torch.cat([h, context], -1))

    def _mask(self, batch: Batch) -> torch.Tensor:
        return torch.arange(batch.inputs.shape[1])[None, :] < batch.lengths[:, None]

    def forward(self, batch: Batch) -> torch.Tensor:
        """Teacher-forced logits ``[B, U, vocab_out]`` for ``batch.targets`` (aligned: one per input step)."""
        states, final = self.encode(batch)
        if self.aligned:
            return self.out(states)
        assert batch.targets is not None
        previous = torch.cat([torch.full_like(batch.targets[:, :1], self.vocab_out), batch.targets[:, :-1].clamp(min=0)], 1)
        h, _ = self.decoder(self.embed_out(previous), final)
        return self._readout(h, states, self._mask(batch))

    def loss(self, batch: Batch) -> torch.Tensor:
        """Mean cross-entropy per target token (targets padded with -1 are ignored)."""
        logits = self(batch)
        assert batch.targets is not None
        targets = batch.targets[:, : logits.shape[1]]
        return F.cross_entropy(logits[:, : targets.shape[1]].reshape(-1, self.vocab_out), targets.reshape(-1), ignore_index=-1)

    @torch.no_grad()
    def predict(self, batch: Batch, max_steps: Sequence[int]) -> list[list[int]]:
        """Greedy output tokens of each sequence, up to its EOS (not included) or ``max_steps`` tokens."""
        states, final = self.encode(batch)
        if self.aligned:
            tokens = self.out(states).argmax(-1)
            rows = [t[: int(n)].tolist() for t, n in zip(tokens, batch.lengths)]
            return [r[: r.index(EOS)] if EOS in r else r for r in rows]
        mask, hc = self._mask(batch), final
        token = torch.full((len(batch.lengths), 1), self.vocab_out, dtype=torch.long)
        out: list[list[int]] = [[] for _ in batch.lengths]
        done = torch.zeros(len(out), dtype=torch.bool)
        for step in range(max(max_steps) + 1):
            h, hc = self.decoder(self.embed_out(token), hc)
            token = self._readout(h, states, mask).argmax(-1)
            for i in (~done).nonzero().flatten().tolist():
                t = int(token[i, 0])
                if t == EOS or step >= max_steps[i]:
                    done[i] = True
                else:
                    out[i].append(t)
            if done.all():
                break
        return out
