"""Bad input at every boundary of the agents: a message naming the bad value and what is accepted, exit 2, no file changed.

The CLI cases run ``agents.cli.main`` in a temporary working folder holding copies of shipped checkpoints,
with the trainers replaced by a function that fails the test if reached; the checkpoint cases alter copies
of every shipped checkpoint and load them.
"""

from __future__ import annotations

import importlib
import io
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from agents.cli import main  # noqa: E402
from agents.common import checkpoints  # noqa: E402
from agents.common.checkpoints import CHECKSUM, CheckpointError, kind_of, load_torch, save_atomic, tensor_checksum  # noqa: E402
from agents.common.upgrade import upgrade  # noqa: E402
from agents.neural_programmer.agent import NeuralProgrammerAgent  # noqa: E402
from agents.npi.agent import NPIAgent  # noqa: E402
from tests.record_shipped_actions import PROBLEMS, ROOT  # noqa: E402

TRAINERS = ("agents.npi.train", "agents.neural_programmer.train", "agents.baselines.train", "agents.baselines.seq2seq_train",
            "agents.baselines.table_train")
"""the modules whose ``train`` the train commands call"""
SHIPPED = [ROOT / name for name in PROBLEMS]
FILES = {
    "npi.pt": ROOT / "agents/npi/pretrained/npi-sort.pt",
    "car.pt": ROOT / "agents/npi/pretrained/npi-canonicalize.pt",
    "np.pt": ROOT / "agents/neural_programmer/pretrained/1col.pt",
}


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for a folder)."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with copies of shipped checkpoints and a sub-folder; training is not reachable."""
    for name, source in FILES.items():
        shutil.copy(source, tmp_path / name)
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain.txt").write_text("not a folder\n")
    monkeypatch.chdir(tmp_path)

    def reached(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a refused command reached the trainer")

    for trainer in TRAINERS:
        monkeypatch.setattr(importlib.import_module(trainer), "train", reached)
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``npi-gym ARGV`` in-process: its exit status (argparse's too) and stderr."""
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


NPI_TRAIN = ["train", "npi"]
NP_TRAIN = ["train", "neural-programmer"]
CASES = [
    # eval: counts, sizes, batch sizes, seeds, and counts matched to lengths
    (["eval", "npi.pt", "--episodes", "0"], ["'0'", "an episode count >= 1", "20,10,5"]),
    (["eval", "npi.pt", "--episodes", "-1"], ["'-1'", "an episode count >= 1"]),
    (["eval", "npi.pt", "--episodes", "5,x"], ["'5,x'", "an episode count >= 1"]),
    (["eval", "npi.pt", "--lengths", "abc"], ["'abc'", "a problem size >= 1", "10,20,50"]),
    (["eval", "npi.pt", "--lengths", "0"], ["'0'", "a problem size >= 1"]),
    (["eval", "npi.pt", "--batch-size", "0"], ["'0'", "a batch size >= 1"]),
    (["eval", "npi.pt", "--seed", "-1"], ["'-1'", "a seed >= 0"]),
    (["eval", "npi.pt", "--lengths", "5,10", "--episodes", "1,2,3"], ["--episodes 1,2,3", "lengths 5,10", "give one count, or one per length"]),
    (["eval", "np.pt", "--episodes", "1,2"], ["--episodes 1,2", "takes one count"]),
    (["eval", "folder"], ["no checkpoint at folder", "it is a folder"]),
    # eval on an env the checkpoint cannot play
    (["eval", "npi.pt", "--env", "NPI-Table-1Col-v0"], ["cannot play NPI-Table-1Col-v0", "not a program-call env", "it plays NPI-Sort-v0"]),
    (["eval", "npi.pt", "--env", "NPI-Addition-v0"], ["NPI-Addition-v0", "program table differs", "it plays NPI-Sort-v0"]),
    (["eval", "car.pt", "--env", "NPI-Addition-v0"], ["cannot play NPI-Addition-v0", "image_size", "it plays NPI-Canonicalize-v0"]),
    (["eval", "np.pt", "--env", "NPI-Addition-v0"], ["cannot play NPI-Addition-v0", "not a table env", "it plays NPI-Table-1Col-v0"]),
    (["eval", "np.pt", "--env", "NPI-Table-5Col-v0"], ["NPI-Table-5Col-v0", "never learned", "it plays NPI-Table-1Col-v0"]),
    # train: config fields, checked before anything is written
    ([*NPI_TRAIN, "--hidden", "0"], ["NPIConfig.hidden", "got 0", "an integer >= 1"]),
    ([*NPI_TRAIN, "--lr", "nan"], ["NPIConfig.lr", "got nan", "a finite number > 0"]),
    ([*NPI_TRAIN, "--lr", "inf"], ["NPIConfig.lr", "got inf", "a finite number > 0"]),
    ([*NPI_TRAIN, "--threads", "0"], ["NPIConfig.threads", "got 0", "an integer >= 1"]),
    ([*NPI_TRAIN, "--eval-every", "0"], ["NPIConfig.eval_every", "got 0", "an integer >= 1"]),
    ([*NPI_TRAIN, "--log-every", "0"], ["NPIConfig.log_every", "got 0", "an integer >= 1"]),
    ([*NPI_TRAIN, "--batch-frames", "0"], ["NPIConfig.batch_frames", "got 0", "an integer >= 1"]),
    ([*NPI_TRAIN, "--problems-per-length", "-3"], ["NPIConfig.problems_per_length", "got -3", "an integer >= 1"]),
    ([*NPI_TRAIN, "--replay-mistakes", "1.5"], ["NPIConfig.replay_mistakes", "got 1.5", "in [0, 1]"]),
    ([*NPI_TRAIN, "--min-length", "5", "--max-length", "2"], ["min_length 5 > max_length 2", "must be <= max_length"]),
    ([*NPI_TRAIN, "--env-kwargs", "[1]"], ["'[1]'", "expected a JSON object"]),
    ([*NPI_TRAIN, "--env", "NPI-Table-1Col-v0"], ["'NPI-Table-1Col-v0'", "must be a program-call env", "NPI-Sort-v0"]),
    ([*NP_TRAIN, "--batch-size", "0"], ["NPConfig.batch_size", "got 0", "an integer >= 1"]),
    ([*NP_TRAIN, "--epochs", "-1"], ["NPConfig.epochs", "got -1", "an integer >= 1"]),
    ([*NP_TRAIN, "--threads", "0"], ["NPConfig.threads", "got 0", "an integer >= 1"]),
    ([*NP_TRAIN, "--lr", "nan"], ["NPConfig.lr", "got nan", "a finite number > 0"]),
    ([*NP_TRAIN, "--explore", "2"], ["NPConfig.explore", "got 2.0", "in [0, 1]"]),
    ([*NP_TRAIN, "--env", "NPI-Sort-v0"], ["'NPI-Sort-v0'", "must be a table-question env", "NPI-Table-1Col-v0"]),
    # train: where the checkpoint goes
    ([*NPI_TRAIN, "--out", "folder"], ["--out folder", "is a folder", "give a checkpoint file path"]),
    ([*NP_TRAIN, "--out", "folder"], ["--out folder", "is a folder", "give a checkpoint file path"]),
    ([*NPI_TRAIN, "--out", "plain.txt/run.pt"], ["plain.txt is not a folder", "a checkpoint path inside a folder"]),
    ([*NPI_TRAIN, "--out", "npi.pt", "--resume"], ["npi.pt is an exported (inference-only) checkpoint", "cannot be resumed"]),
    ([*NPI_TRAIN, "--out", "np.pt", "--resume"], ["np.pt is not an NPI checkpoint", "it is a Neural Programmer checkpoint"]),
    ([*NP_TRAIN, "--out", "npi.pt", "--resume"], ["npi.pt is not a Neural Programmer checkpoint", "it is an NPI checkpoint"]),
    ([*NP_TRAIN, "--out", "np.pt", "--resume"], ["np.pt is an exported (inference-only) checkpoint", "cannot be resumed"]),
    ([*NPI_TRAIN, "--out", "plain.txt", "--resume"], ["plain.txt is not a readable NPI checkpoint"]),
    # env verbs
    (["trace", "NPI-Sort-v0", "--length", "0"], ["'0'", "a problem size >= 1"]),
    (["trace", "NPI-Sort-v0", "--seed", "-2"], ["'-2'", "a seed >= 0"]),
    (["play", "NPI-Sort-v0", "--length", "x"], ["'x'", "a problem size >= 1"]),
    (["demo", "--episodes", "0"], ["'0'", "an episode count >= 1"]),
    (["play", '{"x": 1}'], ["""'{"x": 1}' is not a registered env id""", "choose one of", "NPI-Sort-v0"]),
    (["eval", "npi.pt", "--env", "a:b"], ["cannot play a:b", "it plays NPI-Sort-v0"]),
]


@pytest.mark.parametrize("argv,says", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_refused_with_a_message_and_nothing_changes(
    argv: list[str], says: list[str], workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(workdir)
    code, err = run(argv, capsys)
    assert code == 2, err
    assert "Traceback" not in err and "error: " in err
    for text in says:
        assert text in err, f"{text!r} not in {err!r}"
    assert snapshot(workdir) == before


def test_play_after_the_episode_ended_says_to_type_reset(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    solve = "ADD1\nACT WRITE OUT 9\nACT PTR OUT RIGHT\nRETURN\nLSHIFT\nRETURN\nRETURN\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(solve + "ADD1\nexpert\ncalls\nreset\nexpert\nquit\n"))
    assert main(["play", "NPI-Addition-v0", "--problem", "4,5"]) == 0
    out = capsys.readouterr().out
    assert "episode over: reward 1.0, returned" in out
    assert out.count("the episode is over (reward 1.0, returned); type 'reset' for a new problem") == 3
    assert out.rstrip().endswith("expert: ADD1")


# ----------------------------------------------------------------- checkpoints


def rewrite(source: Path, target: Path, change: Any) -> None:
    """``target``: ``source`` loaded, passed through ``change`` (a dict -> None), written with a fresh checksum."""
    ckpt = load_torch(source, "checkpoint")
    change(ckpt)
    kind_of(source).save(target, ckpt)


def load_agent(path: Path) -> Any:
    return (NPIAgent if kind_of(path).name == "NPI checkpoint" else NeuralProgrammerAgent).load(path)


@pytest.mark.parametrize("shipped", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_checkpoints_carry_the_checksum_of_their_tensors(shipped: Path) -> None:
    ckpt = load_torch(shipped, "checkpoint")
    assert ckpt["version"] == kind_of(shipped).version
    assert ckpt[CHECKSUM] == tensor_checksum({k: v for k, v in ckpt.items() if k not in checkpoints.HEADER})


def _flip_a_byte(data: bytearray) -> None:
    data[len(data) // 2] ^= 0x01


def _zero_4_kib(data: bytearray) -> None:
    start = max(0, len(data) // 2 - 2048)
    data[start : start + 4096] = bytes(len(data[start : start + 4096]))


@pytest.mark.parametrize("damage", [_flip_a_byte, _zero_4_kib], ids=["flipped byte", "4 KiB zeroed"])
@pytest.mark.parametrize("shipped", SHIPPED, ids=[p.name for p in SHIPPED])
def test_damaged_weights_are_refused(shipped: Path, damage: Any, tmp_path: Path) -> None:
    """Damage inside the largest tensor's storage of the torch zip (the zip itself kept valid)."""
    copy = tmp_path / shipped.name
    with zipfile.ZipFile(shipped) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as target:
        largest = max((i for i in source.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
        for info in source.infolist():
            data = bytearray(source.read(info))
            if info is largest:
                damage(data)
            target.writestr(info, bytes(data))
    before = copy.read_bytes()
    with pytest.raises(CheckpointError, match=r"is corrupted: its tensors do not match the checksum"):
        load_agent(copy)
    assert copy.read_bytes() == before


@pytest.mark.parametrize("shipped", SHIPPED, ids=[p.name for p in SHIPPED])
def test_non_finite_weights_are_refused(shipped: Path, tmp_path: Path) -> None:
    copy = tmp_path / shipped.name
    rewrite(shipped, copy, lambda c: next(iter(c["model"].values())).view(-1).__setitem__(0, float("nan")))
    with pytest.raises(CheckpointError, match=r"non-finite \(NaN or infinite\) values in \['model\."):
        load_agent(copy)


def _drop_model(c: dict) -> None:
    del c["model"]


def _bad_config(c: dict) -> None:
    c["config"]["hidden"] = 0


def _wrong_shape(c: dict) -> None:
    name = next(iter(c["model"]))
    c["model"][name] = torch.zeros(3, 3)


@pytest.mark.parametrize("shipped", [FILES["npi.pt"], FILES["np.pt"]], ids=["npi", "neural-programmer"])
@pytest.mark.parametrize("change,says", [
    (_drop_model, r"without the key\(s\) \['model'\]; it needs \["),
    (_bad_config, r"its config cannot be restored .*hidden must be an integer >= 1; got 0"),
    (_wrong_shape, r"(?s)its weights cannot be restored \(RuntimeError: .*size mismatch"),
])
def test_a_damaged_checkpoint_is_one_checkpoint_error_with_a_reason(shipped: Path, change: Any, says: str, tmp_path: Path) -> None:
    copy = tmp_path / shipped.name
    rewrite(shipped, copy, change)
    with pytest.raises(CheckpointError, match=says):
        load_agent(copy)


@pytest.mark.parametrize("shipped", [FILES["npi.pt"], FILES["np.pt"]], ids=["npi", "neural-programmer"])
def test_a_checkpoint_without_a_checksum_is_refused_and_converted(shipped: Path, tmp_path: Path) -> None:
    kind = kind_of(shipped)
    old = tmp_path / "old.pt"
    ckpt = load_torch(shipped, "checkpoint")
    torch.save({**{k: v for k, v in ckpt.items() if k != CHECKSUM}, "version": kind.unchecked_version}, old)
    with pytest.raises(CheckpointError, match=rf"version {kind.unchecked_version}; this code reads version {kind.version} only; "
                                             rf"add the checksum with 'python -m agents.common.upgrade {old}'"):
        kind.load(old)
    upgrade(old)
    again = kind.load(old)
    assert again[CHECKSUM] == ckpt[CHECKSUM]
    for name, tensor in ckpt["model"].items():
        assert torch.equal(again["model"][name], tensor)
    with pytest.raises(CheckpointError, match=rf"only version {kind.unchecked_version} \(no checksum\) is converted"):
        upgrade(old)


def test_orphan_temporary_files_are_removed_by_the_next_save(tmp_path: Path) -> None:
    target = tmp_path / "run.pt"
    orphans = [tmp_path / "run.pt.k3x_9a0q.tmp", tmp_path / "run.pt.00000000.tmp"]
    kept = [tmp_path / "run.pt.notes.tmp", tmp_path / "other.pt.k3x_9a0q.tmp", tmp_path / "run.pt.k3x_9a0q.txt"]
    for path in orphans + kept:
        path.write_bytes(b"half a checkpoint")
    save_atomic(target, {"x": torch.ones(2)})
    assert torch.equal(load_torch(target, "checkpoint")["x"], torch.ones(2))
    assert not any(p.exists() for p in orphans)
    assert all(p.exists() for p in kept)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["run.pt", *(p.name for p in kept)])
