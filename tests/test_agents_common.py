"""agents.common: config flags, the resume policy, checkpoint kinds and headers, seeds, old import paths."""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from agents.cli import build_parser, main  # noqa: E402
from agents.common import checkpoints, seeds  # noqa: E402
from agents.common.flags import ENV_FLAG, changed_fields, config_flags, field_docs, given, parse_bool  # noqa: E402
from agents.neural_programmer.config import NPConfig  # noqa: E402
from agents.npi.config import NPIConfig  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NPI_SHIPPED = ROOT / "agents" / "npi" / "pretrained" / "npi-sort.pt"
NP_SHIPPED = ROOT / "agents" / "neural_programmer" / "pretrained" / "1col.pt"
TINY_NPI = ["--env", "NPI-Sort-v0", "--min-length", "2", "--max-length", "3", "--problems-per-length", "2",
            "--hidden", "16", "--state-dim", "16", "--encoder-hidden", "16", "--eval-every", "5", "--eval-episodes", "2"]


def parse(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


@pytest.mark.parametrize("text,value", [("false", False), ("False", False), ("no", False), ("0", False), ("true", True), ("yes", True), ("1", True)])
def test_bool_flag_parses_true_and_false(text: str, value: bool) -> None:
    assert parse(["train", "neural-programmer", "--grad-noise", text]).grad_noise is value
    assert parse_bool(text) is value


def test_bool_flag_refuses_anything_else(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        parse(["train", "neural-programmer", "--grad-noise", "maybe"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "npi-gym train neural-programmer: error:" in err and "'maybe'" in err and "true" in err


def test_dict_flag_takes_a_json_object_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse(["train", "npi", "--env-kwargs", '{"max_length": 30}']).env_kwargs == {"max_length": 30}
    for bad in ("[1, 2]", "3", "{nope"):
        with pytest.raises(SystemExit):
            parse(["train", "npi", "--env-kwargs", bad])
        assert "expected a JSON object" in capsys.readouterr().err


def test_flags_not_given_stay_unset() -> None:
    args = parse(["train", "npi", "--lr", "0.01", "--updates", "7"])
    assert given(args, NPIConfig) == {"lr": 0.01, "updates": 7}


@pytest.mark.parametrize(
    "agent,cfg",
    [("npi", NPIConfig(env_id="NPI-Sort-v0", env_kwargs={"max_length": 30}, min_length=2, lr=0.01, stop_after_perfect=0)),
     ("neural-programmer", NPConfig(grad_noise=True, step_embedding=False, grad_noise_eta=0.5))],
)
def test_config_flags_are_read_back_as_the_same_config(agent: str, cfg: object) -> None:
    fields = changed_fields(cfg)
    assert fields and "hidden" not in fields  # only what differs from the defaults
    args = parse(["train", agent, *config_flags(fields, rename=ENV_FLAG)])
    assert type(cfg)(**given(args, type(cfg))) == cfg


@pytest.mark.parametrize("cls", [NPIConfig, NPConfig])
def test_every_config_field_has_a_docstring_shown_in_the_help_with_its_default(cls: type) -> None:
    docs = field_docs(cls)
    assert set(docs) == {f.name for f in dataclasses.fields(cls)}
    agent = "npi" if cls is NPIConfig else "neural-programmer"
    text = build_parser()._subparsers._group_actions[0].choices["train"]._subparsers._group_actions[0].choices[agent].format_help()
    text = " ".join(text.split())
    assert f"{docs['lr']} (default: {cls.lr})" in text
    assert f"{docs['seed']} (default: 0)" in text


def test_npi_resume_takes_the_checkpoints_config_and_refuses_a_changed_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "npi.pt"
    assert main(["train", "npi", *TINY_NPI, "--updates", "5", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["train", "npi", "--env", "NPI-Sort-v0", "--lr", "0.01", "--hidden", "32", "--out", str(out), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("npi-gym train npi: error:")
    assert "hidden: checkpoint 16, requested 32" in err and "lr: checkpoint 0.001, requested 0.01" in err
    assert main(["train", "npi", "--updates", "6", "--eval-episodes", "3", "--out", str(out), "--resume", "--quiet"]) == 0
    ckpt = checkpoints.load_torch(out, "NPI checkpoint")
    assert ckpt["trainer"]["update"] == 6 and ckpt["config"]["hidden"] == 16 and ckpt["config"]["eval_episodes"] == 3


@pytest.mark.parametrize("agent", ["npi", "neural-programmer"])
def test_resume_without_a_checkpoint_is_refused(agent: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", agent, "--out", str(tmp_path / "none.pt"), "--resume", "--quiet"]) == 2
    assert f"npi-gym train {agent}: error: nothing to resume at" in capsys.readouterr().err
    assert not (tmp_path / "none.pt").exists()


@pytest.mark.parametrize("agent,shipped,what", [
    ("npi", NPI_SHIPPED, "an exported (inference-only) checkpoint"),
    ("neural-programmer", NP_SHIPPED, "an exported (inference-only) checkpoint"),
    ("npi", NP_SHIPPED, "is not an NPI checkpoint (it is a Neural Programmer checkpoint)"),
    ("neural-programmer", NPI_SHIPPED, "is not a Neural Programmer checkpoint (it is an NPI checkpoint)"),
])
def test_resume_refuses_an_exported_or_foreign_file(agent: str, shipped: Path, what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy.pt"
    shutil.copy(shipped, copy)
    assert main(["train", agent, "--out", str(copy), "--resume", "--quiet"]) == 2
    assert what in capsys.readouterr().err
    assert copy.read_bytes() == shipped.read_bytes()


def test_eval_dispatches_both_checkpoint_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(NPI_SHIPPED), "--lengths", "2,3", "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    assert "NPI-Sort-v0" in out and "| 2 | 2 |" in out and "| 3 | 2 |" in out
    assert main(["eval", str(NP_SHIPPED), "--episodes", "3"]) == 0
    assert "Neural Programmer" in capsys.readouterr().out
    assert main(["eval", str(NP_SHIPPED), "--lengths", "3"]) == 2
    assert "npi-gym eval: error: --lengths applies to NPI checkpoints" in capsys.readouterr().err
    assert main(["eval", str(NPI_SHIPPED), "--split", "train"]) == 2
    assert "--split applies to Neural Programmer checkpoints" in capsys.readouterr().err


def test_kind_header_and_version_check(tmp_path: Path) -> None:
    from agents.neural_programmer.checkpoint import KIND as NP_KIND
    from agents.npi.checkpoint import KIND as NPI_KIND

    assert checkpoints.kind_of(NPI_SHIPPED) is NPI_KIND and checkpoints.kind_of(NP_SHIPPED) is NP_KIND
    foreign = tmp_path / "foreign.pt"
    torch.save({"model": {}}, foreign)
    with pytest.raises(checkpoints.CheckpointError, match="not a checkpoint of a known kind"):
        checkpoints.kind_of(foreign)
    text_version = tmp_path / "text-version.pt"
    torch.save({"format": NPI_KIND.format, "version": "1"}, text_version)
    with pytest.raises(checkpoints.CheckpointError, match=rf"format version '1'; this code reads version {NPI_KIND.version} only"):
        NPI_KIND.load(text_version)


def test_an_npi_checkpoint_is_read_once_per_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from agents.npi.agent import NPIAgent

    reads = []
    real = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    NPIAgent.load(NPI_SHIPPED)
    assert reads == [NPI_SHIPPED]


def test_seed_ranges_are_the_ones_results_were_made_with() -> None:
    from agents.npi.train import training_problems, validation_problems

    assert (seeds.TRAINING_SEEDS, seeds.VALIDATION_SEED, seeds.EVAL_SEED) == (10**9, 2_000_000_000, 3_000_000_000)
    assert seeds.evaluation_seed(4, seed=2, length=10) == 3_000_000_000 + 7919 * 2 + 104_729 * 10 + 4
    cfg = NPIConfig(seed=3, min_length=1, max_length=2, problems_per_length=1, eval_episodes=2)
    rng = np.random.default_rng([3, 1])
    assert [s for s, _ in training_problems(cfg)] == [int(rng.integers(10**9)) for _ in range(2)]
    assert [s for s, _ in validation_problems(cfg)] == [2_000_003_000, 2_000_003_001]


def test_old_import_paths_still_work() -> None:
    import agents.base
    import agents.cli
    import agents.neural_programmer.checkpoint
    import agents.npi
    import agents.npi.checkpoint
    import agents.runs

    assert agents.npi.checkpoint.CheckpointError is agents.neural_programmer.checkpoint.CheckpointError is checkpoints.CheckpointError
    assert agents.npi.CheckpointError is checkpoints.CheckpointError
    assert agents.npi.load_checkpoint(NPI_SHIPPED)["env_id"] == "NPI-Sort-v0"
    assert agents.cli.pretrained_path("NPI-Sort-v0") == NPI_SHIPPED
    assert agents.base.EVAL_SEED == seeds.EVAL_SEED
    assert agents.runs.save_atomic is checkpoints.save_atomic
    assert callable(agents.npi.train)


def test_encoder_is_chosen_from_the_observation_space() -> None:
    from gymnasium import spaces

    from agents.npi.encoders import ImageCNN, OneHotMLP, make_encoder

    cfg = NPIConfig(state_dim=8, encoder_hidden=8)
    discrete = {"program": spaces.Discrete(3), "args": spaces.MultiDiscrete([2, 2, 2]), "bits": spaces.MultiBinary(3), "n": spaces.Discrete(4)}
    assert type(make_encoder(spaces.Dict(discrete), cfg)) is OneHotMLP
    pixels = spaces.Box(0, 255, (16, 16, 1), np.uint8)
    encoder = make_encoder(spaces.Dict({**discrete, "view": pixels}), cfg)
    assert type(encoder) is ImageCNN and encoder.image == "view" and encoder.keys == ("args", "bits", "n")
    with pytest.raises(TypeError, match=r"observation key 'level' .*discrete keys .*image key"):
        make_encoder(spaces.Dict({**discrete, "level": spaces.Box(0.0, 1.0, (2,))}), cfg)
