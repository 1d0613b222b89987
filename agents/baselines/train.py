"""Training a baseline with SB3's own pieces: vec envs, callbacks, logger, save/load; checkpoints written atomically."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from agents.baselines.algorithms import Algorithm
from agents.baselines.hyperparams import load_hyperparams, wrapper_class, wrapper_function
from agents.baselines.plots import plot_learning_curve
from agents.baselines.sb3_agent import RUN_KEY, run_info
from npi_gym.wrappers import Curriculum

CHECKPOINTS = "checkpoints"
MODEL = "model.zip"
_STEPS = re.compile(r"rl_model_(\d+)_steps\.zip$")
CURRICULUM_KEY = "npi_gym_curriculum"
"""saved with the model: the Curriculum stage of each copy of the training vec env, restored on resume"""


def save_model(model: Any, path: Path) -> Path:
    """``model.save`` to ``path`` atomically: a crash leaves the previous file intact. With a ``Curriculum``
    in the training env, its stages are saved too."""
    env = model.get_env()
    if env is not None and all(env.env_is_wrapped(Curriculum)):
        setattr(model, CURRICULUM_KEY, [int(stage) for stage in env.get_attr("stage")])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".zip", dir=path.parent)
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def latest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint with the most timesteps under ``folder`` (``rl_model_<N>_steps.zip``)."""
    found = [(int(m.group(1)), p) for p in folder.glob("rl_model_*_steps.zip") if (m := _STEPS.search(p.name))]
    return max(found)[1] if found else None


def _checkpoint_callback() -> type:
    from stable_baselines3.common.callbacks import CheckpointCallback

    class AtomicCheckpoint(CheckpointCallback):
        """SB3's CheckpointCallback, each file written through ``save_model``."""

        def _on_step(self) -> bool:
            if self.n_calls % self.save_freq == 0:
                save_model(self.model, Path(self._checkpoint_path(extension="zip")))
            return True

    return AtomicCheckpoint


def _curriculum_callback() -> type:
    from stable_baselines3.common.callbacks import BaseCallback

    class CurriculumLogger(BaseCallback):
        """Logs each rollout's ``Curriculum`` stage (mean, lowest and highest over the copies of the vec env)."""

        def _on_rollout_end(self) -> None:
            stages = self.training_env.get_attr("stage")
            self.logger.record("curriculum/stage_mean", sum(stages) / len(stages))
            self.logger.record("curriculum/stage_min", min(stages))
            self.logger.record("curriculum/stage_max", max(stages))

        def _on_step(self) -> bool:
            return True

    return CurriculumLogger


def train(
    algo: Algorithm,
    env_id: str,
    out: str | Path,
    timesteps: int | None = None,
    seed: int = 0,
    resume: bool = False,
    env_kwargs: dict[str, Any] | None = None,
    hyperparams: str | Path | None = None,
    eval_episodes: int = 20,
    evaluations: int = 10,
    progress_bar: bool = False,
) -> dict[str, Any]:
    """Train ``algo`` on ``env_id`` into ``out`` (checkpoints, logs, best model, learning curve); continue with ``resume``.

    ``timesteps`` defaults to the YAML's ``n_timesteps``; the run is evaluated and checkpointed
    ``evaluations`` times. Evaluation uses the training wrappers without the ``Curriculum``: the
    root program at the env's own sizes. With a ``Curriculum``, each rollout logs its stages
    (``curriculum/stage_*``), the learning curve plots them, and a resumed run continues from the
    stages its checkpoint saved.
    """
    from stable_baselines3.common.callbacks import CallbackList, ProgressBarCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.logger import configure

    hp = load_hyperparams(algo, env_id, hyperparams)
    total = int(timesteps if timesteps is not None else hp.n_timesteps)
    env_kwargs = dict(env_kwargs or {})
    out = Path(out)
    latest = latest_checkpoint(out / CHECKPOINTS)
    if latest is not None and not resume:
        raise ValueError(f"{out} already holds checkpoints (last: {latest.name}); pass --resume to continue that run or choose another --out")
    if latest is None and resume:
        raise ValueError(f"--resume: no checkpoint under {out / CHECKPOINTS}")
    eval_wrappers = tuple((name, kw) for name, kw in hp.env_wrapper if not issubclass(wrapper_class(name), Curriculum))
    run = {"algorithm": algo.name, "env_id": env_id, "env_kwargs": env_kwargs, "env_wrapper": [name for name, _ in eval_wrappers]}
    made = {"render_mode": None, **env_kwargs}  # make_vec_env asks for rgb_array otherwise, which text-only envs refuse
    train_env = make_vec_env(env_id, n_envs=hp.n_envs, seed=seed, env_kwargs=made, wrapper_class=wrapper_function(hp.env_wrapper))
    eval_env = make_vec_env(env_id, n_envs=1, seed=seed + 1_000_003, env_kwargs=made, wrapper_class=wrapper_function(eval_wrappers))
    cls = algo.load_class()
    if latest is not None:
        saved = run_info(latest)
        if saved != run:
            raise ValueError(f"{latest} was trained as {saved}; resume it with the same algorithm, env, env kwargs and wrappers, not {run}")
        model = cls.load(latest, env=train_env, device="cpu")
        for i, stage in enumerate(getattr(model, CURRICULUM_KEY, None) or []):
            train_env.env_method("start_at", stage, indices=i)
    else:
        kwargs = dict(hp.model_kwargs)
        if algo.recurrent:
            from agents.baselines.extractor import IntSizedCombinedExtractor

            kwargs["policy_kwargs"] = {"features_extractor_class": IntSizedCombinedExtractor, **kwargs.get("policy_kwargs", {})}
        model = cls(hp.policy, train_env, seed=seed, device="cpu", verbose=1, **kwargs)
    setattr(model, RUN_KEY, run)
    sessions = len(list((out / "logs").glob("session-*")))
    model.set_logger(configure(str(out / "logs" / f"session-{sessions + 1}"), ["stdout", "csv", "tensorboard"]))
    learned = max(total, hp.n_envs * int(hp.model_kwargs.get("n_steps", 1)))  # on-policy learners collect whole rollouts
    every = max(learned // evaluations // hp.n_envs, 1)
    evaluator = _eval_callback(algo)(
        eval_env, n_eval_episodes=eval_episodes, eval_freq=every, best_model_save_path=str(out / "best"), log_path=str(out / "eval"), verbose=0
    )
    if latest is not None:
        continue_evaluations(evaluator, out / "eval" / "evaluations.npz", model.num_timesteps)
    callbacks = [_checkpoint_callback()(every, str(out / CHECKPOINTS)), evaluator]
    if len(eval_wrappers) < len(hp.env_wrapper):
        callbacks.append(_curriculum_callback()())
    if progress_bar:
        callbacks.append(ProgressBarCallback())
    before = model.num_timesteps
    if total > before:
        model.learn(total - before, callback=CallbackList(callbacks), reset_num_timesteps=latest is None)
    save_model(model, out / CHECKPOINTS / f"rl_model_{model.num_timesteps}_steps.zip")
    save_model(model, out / MODEL)
    train_env.close()
    eval_env.close()
    return {
        "timesteps": model.num_timesteps,
        "resumed_from": before if latest is not None else None,
        "model": out / MODEL,
        "curve": plot_learning_curve(out / "logs", out / "learning_curve.png", f"{algo.name} on {env_id}"),
    }


def continue_evaluations(evaluator: Any, npz: Path, upto: int) -> None:
    """Give a resumed run's EvalCallback the run's evaluations up to its checkpoint's ``upto`` steps.

    SB3's EvalCallback starts an empty history and rewrites ``evaluations.npz`` with it, so without
    this a resumed run's learning curve would begin at the resume; its best mean reward carries on too,
    so ``best/`` is replaced only by a better model.
    """
    if not npz.is_file():
        return
    with np.load(npz) as saved:
        keep = [i for i, t in enumerate(saved["timesteps"]) if t <= upto]
        evaluator.evaluations_timesteps = [int(saved["timesteps"][i]) for i in keep]
        evaluator.evaluations_results = [saved["results"][i].tolist() for i in keep]
        evaluator.evaluations_length = [saved["ep_lengths"][i].tolist() for i in keep]
        if "successes" in saved.files:
            evaluator.evaluations_successes = [saved["successes"][i].tolist() for i in keep]
    if evaluator.evaluations_results:
        evaluator.best_mean_reward = max(float(np.mean(r)) for r in evaluator.evaluations_results)


def _eval_callback(algo: Algorithm) -> type:
    if algo.maskable:
        from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback

        return MaskableEvalCallback
    from stable_baselines3.common.callbacks import EvalCallback

    return EvalCallback
