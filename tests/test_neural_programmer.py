"""The Neural Programmer agent: soft execution against the env, learning, checkpoints, CLI errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from agents.base import EVAL_SEED, run_episodes
from agents.cli import main
from agents.neural_programmer.agent import NeuralProgrammerAgent
from agents.neural_programmer.checkpoint import CheckpointError, load_checkpoint
from agents.neural_programmer.config import NPConfig
from agents.neural_programmer.model import Features, featurize, soft_execute, stack_observations
from agents.neural_programmer.shipped import pretrained_path
from agents.neural_programmer.train import train
from npi_gym import tables

SETTINGS = [(key, tables.PAPER[key].env_id) for key in ("1col", "5col", "text-5col")]
HANDFUL = ["sum A", "count", "print A", "greater 10.5 A sum A", "lesser -20.25 A count", "greater 0.5 A print A"]


def _random_program(rng: np.random.Generator, example: tables.Example) -> tuple[tables.Step, ...]:
    """Four valid steps; one pivot per comparison kind, as the agent's pivot attention gives."""
    columns, pivots = example.table.shape[1], max(1, len(example.numbers))
    allowed = [op for op in tables.OPERATIONS if op != "text_match" or not example.table.numeric.all()]
    pivot = {"greater": int(rng.integers(pivots)), "lesser": int(rng.integers(pivots))}
    ops = [allowed[rng.integers(len(allowed))] for _ in range(tables.STEPS)]
    return tuple(tables.Step(op, int(rng.integers(columns)), pivot.get(op, 0)) for op in ops)


@pytest.mark.parametrize("setting,env_id", SETTINGS)
def test_one_hot_soft_execution_equals_the_envs_steps(setting: str, env_id: str) -> None:
    """Ground-truth and random programs: every step's selector, scalar and lookup as env.step leaves them."""
    rng = np.random.default_rng(0)
    examples = list(tables.dataset(60, seed=1, setting=setting, split="train"))
    programs = [e.program for e in examples] + [_random_program(rng, e) for e in examples]
    examples = examples + examples
    env = gym.make(env_id)
    first = [env.reset(options={"example": e}) for e in examples]
    f = featurize(stack_observations([o for o, _ in first], [i for _, i in first]), torch.float64)
    ops = torch.tensor([[tables.OPERATIONS.index(s.operation) for s in p] for p in programs]).T
    cols = torch.tensor([[s.column for s in p] for p in programs]).T
    pivots = torch.tensor(
        [[next((s.pivot for s in p if s.operation == kind), 0) for kind in ("greater", "lesser")] for p in programs]
    )
    outputs = soft_execute(
        f,
        F.one_hot(ops, len(tables.OPERATIONS)).float(),
        F.one_hot(cols, f.values.shape[2]).float(),
        F.one_hot(pivots, tables.MAX_NUMBERS).float(),
    )
    for b, (example, program) in enumerate(zip(examples, programs)):
        env.reset(options={"example": example})
        rows, columns = example.table.shape
        for t, step in enumerate(program):
            action = {"operation": int(ops[t, b]), "column": step.column, "pivot": step.pivot}
            obs, reward, *_ = env.step(action)
            np.testing.assert_array_equal(outputs[t].selector[b, :rows].numpy(), obs["row_selector"][:rows])
            np.testing.assert_allclose(outputs[t].scalar[b].item(), obs["scalar"][0], atol=1e-2, rtol=1e-6)
            np.testing.assert_array_equal(outputs[t].lookup[b, :rows, :columns].numpy(), obs["lookup"][:rows, :columns])
        if b < len(examples) // 2:
            assert reward == 1.0


def _handful(tables_per_question: int = 20) -> list[tables.Example]:
    """The HANDFUL questions, each over several tables (so that only the right program fits them all)."""
    rng = np.random.default_rng(0)
    grids = [tables.sample_table(rng, ("number",), "train") for _ in range(tables_per_question)]
    return [tables.make_example(q, t) for q in HANDFUL for t in grids]



def _features(env_id: str, seeds: range) -> Features:
    env = gym.make(env_id)
    first = [env.reset(seed=s) for s in seeds]
    return featurize(stack_observations([o for o, _ in first], [i for _, i in first]))


TINY = dict(
    env_id="NPI-Table-1Col-v0", embed=16, hidden=32, init_scale=0.3, last_step_writes=True, batch_size=10,
    lr=0.003, epochs=80, grad_noise=False, eval_episodes=10, stop_at=2.0,
)
"""A tiny model. init_scale 0.3: with 32 hidden units, U[-0.1, 0.1] recurrent weights forget all but the
last word (so "sum A" and "greater N A print A" look alike); last_step_writes: no answer-0 shortcut."""


def test_tiny_model_learns_a_handful_of_single_column_questions(tmp_path) -> None:
    examples = _handful()
    train(NPConfig(**TINY), tmp_path / "tiny.pt", progress=False, examples=examples)
    agent = NeuralProgrammerAgent.load(tmp_path / "tiny.pt")
    played = run_episodes(agent, "NPI-Table-1Col-v0", [(0, {"example": e}) for e in examples])
    assert sum(e.solved for e in played) == len(examples)


def test_checkpoint_round_trip_resume_and_refusals(tmp_path) -> None:
    path = tmp_path / "runs" / "np.pt"  # a folder that does not exist yet
    cfg = NPConfig(**{**TINY, "epochs": 2})
    first = train(cfg, path, progress=False, examples=_handful())
    ckpt = load_checkpoint(path)
    assert ckpt["config"] == cfg.to_dict() and ckpt["setting"]["numeric_columns"] == 1
    agent, again = NeuralProgrammerAgent.load(path), NeuralProgrammerAgent.load(path)
    env = gym.make("NPI-Table-1Col-v0", split="test")
    for seed in range(5):
        obs, info = env.reset(seed=seed)
        agent.reset(obs, info)
        again.reset(obs, info)
        assert agent.act(obs, info) == again.act(obs, info)

    more = train(NPConfig(**{**TINY, "epochs": 4}), path, resume=True, progress=False, examples=_handful())
    assert more["updates"] == 2 * first["updates"]
    with pytest.raises(CheckpointError, match="lr: checkpoint 0.003, requested 0.02"):
        train(NPConfig(**{**TINY, "lr": 0.02}), path, resume=True, progress=False, examples=_handful())
    with pytest.raises(CheckpointError, match="never learned"):
        NeuralProgrammerAgent.load(path, "NPI-Table-5Col-v0")


def test_corrupt_or_foreign_checkpoint_fails_clearly(tmp_path, capsys) -> None:
    path = tmp_path / "np.pt"
    train(NPConfig(**{**TINY, "epochs": 1}), path, progress=False, examples=_handful())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(path)
    assert main(["eval", str(path)]) == 2
    assert "truncated or corrupted" in capsys.readouterr().err
    other = tmp_path / "other.pt"
    torch.save({"model": {}}, other)
    with pytest.raises(CheckpointError, match="not a Neural Programmer checkpoint"):
        load_checkpoint(other)


def test_cli_trains_and_evaluates(tmp_path, capsys) -> None:
    path = tmp_path / "cli.pt"
    argv = ["--env", "NPI-Table-1Col-v0", "--examples", "50", "--epochs", "1", "--hidden", "16", "--embed", "8"]
    assert main(["train", "neural-programmer", *argv, "--eval-episodes", "5", "--grad-noise", "false", "--out", str(path), "--quiet"]) == 0
    assert "held-out test-split accuracy" in capsys.readouterr().out
    assert main(["eval", str(path), "--episodes", "5"]) == 0
    assert "| any | 5 |" in capsys.readouterr().out
    assert main(["train", "neural-programmer", *argv, "--hidden", "32", "--out", str(path), "--resume", "--quiet"]) == 2
    assert "hidden: checkpoint 16, requested 32" in capsys.readouterr().err


@pytest.mark.parametrize("name,env_id", [("1col", "NPI-Table-1Col-v0"), ("5col", "NPI-Table-5Col-v0")])
def test_shipped_checkpoint_plays_as_its_training_measured(name: str, env_id: str, tmp_path) -> None:
    """An inference-only file that cannot be resumed, whose agent scores what training's held-out evaluation saw."""
    path = pretrained_path(name)
    assert path.stat().st_size < 2_000_000
    ckpt = load_checkpoint(path)
    assert "optimizer" not in ckpt and ckpt["config"]["env_id"] == env_id
    measured = ckpt["trainer"]["curve"][-1][2]
    agent = NeuralProgrammerAgent.load(path)
    played = run_episodes(agent, env_id, [(EVAL_SEED + i, {}) for i in range(300)], split="test")
    assert abs(sum(e.solved for e in played) / len(played) - measured) < 0.08
    copy = tmp_path / "copy.pt"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(CheckpointError, match="inference-only"):
        train(NPConfig.from_dict(ckpt["config"]), copy, resume=True, progress=False)


def test_exploration_spreads_its_share_over_the_allowed_choices() -> None:
    """``explore`` mixes its share of uniform into the allowed operations and columns, never the masked ones."""
    from agents.neural_programmer.model import WRITES, NeuralProgrammer

    f = _features("NPI-Table-5Col-v0", range(8))
    model = NeuralProgrammer(NPConfig(last_step_writes=True))
    plain, mixed = model(f), model(f, explore=0.4)
    for soft, base, allowed in ((mixed.operations, plain.operations, f.operation_mask), (mixed.columns, plain.columns, f.column_mask)):
        allowed = allowed[None].expand_as(soft).clone()
        if soft is mixed.operations:
            allowed[-1] &= WRITES  # the last step writes
        floor = 0.4 / allowed.sum(-1, keepdim=True)
        torch.testing.assert_close(soft.sum(-1), torch.ones(soft.shape[:-1]))
        assert torch.all(soft[~allowed] == 0)
        assert torch.all(soft >= floor * allowed - 1e-6)
        # at step 0 (later steps read the mixed choices through the history RNN) the mixture is exact
        torch.testing.assert_close(soft[0], 0.6 * base[0] + floor[0] * allowed[0])


def test_search_keeps_only_programs_whose_episode_gives_the_answer() -> None:
    """Every program ``search_programs`` returns is solved when played in the env; memory recalls it."""
    from agents.neural_programmer.model import NeuralProgrammer
    from agents.neural_programmer.train import ProgramMemory, encode_examples, search_programs

    torch.manual_seed(0)
    examples = list(tables.dataset(40, seed=3, setting="5col", split="train"))
    data = encode_examples(examples, "NPI-Table-5Col-v0")
    cfg = NPConfig(search=64, search_explore=0.5)
    model = NeuralProgrammer(cfg)
    index = np.arange(len(examples))
    f, scalar, is_lookup, cells = data.batch(index)
    rows, ops, cols, pivots = search_programs(model, f, model(f), scalar, is_lookup, cells, cfg, torch.Generator().manual_seed(0))
    assert len(rows) > 0 and len(set(rows.tolist())) > 1
    env = gym.make("NPI-Table-5Col-v0")
    for k in range(len(rows)):
        env.reset(options={"example": examples[int(rows[k])]})
        for t in range(tables.STEPS):
            *_, reward, terminated, truncated, _ = env.step({"operation": int(ops[t, k]), "column": int(cols[t, k]),
                                                         "pivot": int(pivots[k, int(tables.OPERATIONS[int(ops[t, k])] == "lesser")])})
        assert terminated and reward == 1.0
    memory = ProgramMemory.empty(len(examples))
    memory.remember(rows, ops, cols, pivots)
    known, *programs = memory.recall(torch.from_numpy(index))
    assert set(known.tolist()) == set(rows.tolist())
    log_prob = model.program_log_prob(f[known], *programs)
    assert torch.all(log_prob <= 0) and torch.all(torch.isfinite(log_prob))



def test_question_attention_reads_only_the_question_words() -> None:
    """A question's choices are the same alone and batched beside longer questions (padding is masked)."""
    from agents.neural_programmer.model import NeuralProgrammer

    torch.manual_seed(0)
    f = _features("NPI-Table-5Col-v0", range(12))
    shortest = int(f.lengths.argmin())
    assert f.lengths[shortest] < f.lengths.max()
    model = NeuralProgrammer(NPConfig(question_attention=True))
    batched, alone = model(f), model(f[torch.tensor([shortest])])
    torch.testing.assert_close(batched.operations[:, shortest], alone.operations[:, 0])
    torch.testing.assert_close(batched.columns[:, shortest], alone.columns[:, 0])


@pytest.mark.parametrize("soft_until_found", [True, False])
def test_questions_with_a_remembered_program_train_on_it(soft_until_found: bool) -> None:
    """With ``soft_until_found`` the loss of a question that has a program is that program's log-likelihood alone."""
    from agents.neural_programmer.model import NeuralProgrammer
    from agents.neural_programmer.train import ProgramMemory, batch_loss, encode_examples

    torch.manual_seed(0)
    examples = list(tables.dataset(20, seed=5, setting="5col", split="train"))
    data = encode_examples(examples, "NPI-Table-5Col-v0")
    cfg = NPConfig(soft_until_found=soft_until_found)
    model = NeuralProgrammer(cfg)
    index = np.arange(len(examples))
    memory = ProgramMemory.empty(len(examples))
    programs = [e.program for e in examples]
    memory.remember(
        torch.from_numpy(index),
        torch.tensor([[tables.OPERATIONS.index(s.operation) for s in p] for p in programs]).T,
        torch.tensor([[s.column for s in p] for p in programs]).T,
        torch.tensor([[next((s.pivot for s in p if s.operation == k), 0) for k in ("greater", "lesser")] for p in programs]),
    )
    loss = batch_loss(model, data, index, memory, cfg, 0.0, torch.Generator().manual_seed(0))
    f = data.batch(index)[0]
    rows, *recalled = memory.recall(torch.from_numpy(index))  # what search left there (it may find other programs)
    assert len(rows) == len(examples)
    program_only = -cfg.search_weight * model.program_log_prob(f, *recalled).mean()
    if soft_until_found:
        torch.testing.assert_close(loss, program_only)
    else:
        assert loss > program_only + 1e-3


def test_search_pool_tries_remembered_operations_on_questions_without_a_program() -> None:
    """Pooled operation sequences are tried on the ``todo`` questions only; the most frequent come first."""
    from agents.neural_programmer.model import NeuralProgrammer
    from agents.neural_programmer.train import ProgramMemory, encode_examples, search_programs

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    grids = [tables.sample_table(rng, ("number",), "train") for _ in range(10)]
    examples = [tables.make_example(q, t) for q in ("sum A diff count", "count diff sum A") for t in grids]
    data = encode_examples(examples, "NPI-Table-1Col-v0")
    assert data.wordings.tolist() == [0] * 10 + [1] * 10 or data.wordings.tolist() == [1] * 10 + [0] * 10
    f, scalar, is_lookup, cells = data.batch(np.arange(len(examples)))
    sequences = [[tables.OPERATIONS.index(s.operation) for s in e.program] for e in examples]
    memory = ProgramMemory.empty(len(examples))
    remembered = torch.tensor([0, 1, 2, 10])  # three of the first wording, one of the second
    memory.remember(remembered, torch.tensor([sequences[k] for k in remembered]).T, torch.zeros((4, 4), dtype=torch.long),
                    torch.zeros((4, 2), dtype=torch.long))
    assert memory.common_operations(2).tolist() == [[sequences[0], sequences[10]]]
    assert memory.common_operations(1).tolist() == [[sequences[0]]]
    by_wording = memory.common_operations(2, data.wordings)
    assert by_wording[data.wordings[0]].tolist() == [sequences[0], [-1] * 4]
    assert by_wording[data.wordings[10]].tolist() == [sequences[10], [-1] * 4]

    cfg = NPConfig(env_id="NPI-Table-1Col-v0", search=1)
    model = NeuralProgrammer(cfg)
    todo = torch.arange(len(examples)) % 2 == 0
    pool = by_wording[data.wordings]  # each question is offered its own wording's sequence
    rows, ops, *_ = search_programs(model, f, model(f), scalar, is_lookup, cells, cfg, torch.Generator().manual_seed(0), pool, todo)
    pooled = {k for k, op in zip(rows.tolist(), ops.T.tolist()) if op == sequences[k]}
    assert pooled >= set(torch.nonzero(todo)[:, 0].tolist())  # every todo question tried, and was solved by, its own
    rows, *_ = search_programs(model, f, model(f), scalar, is_lookup, cells, cfg, torch.Generator().manual_seed(0))
    assert len(set(rows.tolist())) < len(examples) // 2  # one random sample each rarely gives these answers


def test_questions_worded_alike_share_a_wording() -> None:
    """Numbers, text words and column names do not tell wordings apart; anything else does."""
    from agents.neural_programmer.train import encode_examples

    rng = np.random.default_rng(0)
    table = tables.sample_table(rng, ("number", "number", "number", "text", "text"), "train")
    questions = ["greater 3 A sum B", "greater -7.5 C sum A", "lesser 3 A sum B", "word:1 D count", "word:4 E count", "count"]
    data = encode_examples([tables.make_example(q, table) for q in questions], "NPI-Table-Text-5Col-v0")
    ids = data.wordings.tolist()
    assert ids[0] == ids[1] and ids[3] == ids[4]
    assert len({ids[0], ids[2], ids[3], ids[5]}) == 4


@pytest.mark.parametrize("redraw", [True, False])
def test_pooled_sequences_are_also_tried_with_the_last_operation_redrawn(redraw: bool) -> None:
    """A sequence found for "... sum A" reaches "... count" questions only through its redrawn last step
    (uniform over the four writing operations here, so 60 questions all but surely draw count)."""
    from agents.neural_programmer.model import NeuralProgrammer
    from agents.neural_programmer.train import encode_examples, search_programs

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    examples = [tables.make_example("greater 0.5 A count", tables.sample_table(rng, ("number",), "train")) for _ in range(60)]
    data = encode_examples(examples, "NPI-Table-1Col-v0")
    f, scalar, is_lookup, cells = data.batch(np.arange(len(examples)))
    found_for_sum = [tables.OPERATIONS.index(op) for op in ("greater", "reset", "greater", "sum")]
    pool = torch.tensor(found_for_sum).expand(len(examples), 1, -1)
    cfg = NPConfig(env_id="NPI-Table-1Col-v0", search=0, search_explore=1.0, search_pool_redraw_last=redraw)  # pool only
    model = NeuralProgrammer(cfg)
    todo = torch.ones(len(examples), dtype=torch.bool)
    rows, ops, *_ = search_programs(model, f, model(f), scalar, is_lookup, cells, cfg, torch.Generator().manual_seed(0), pool, todo)
    via_pool = [k for k, op in zip(rows.tolist(), ops.T.tolist()) if op[:3] == found_for_sum[:3] and op[3] == tables.OPERATIONS.index("count")]
    assert bool(via_pool) == redraw
