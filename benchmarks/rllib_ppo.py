"""RLlib PPO with action masking on a program-call env across env runners: env steps, mean episode length and return per iteration.

    python benchmarks/rllib_ppo.py [--env NPI-Sort-v0] [--iterations 3] [--env-runners 2]

Runs on a local Ray (``ray.init()``); writes benchmarks/results/rllib_ppo.md.
"""

from __future__ import annotations

import argparse
import json
import time

from agents.baselines.rllib import train_ppo
from common import command_line, md_row, write_markdown
from npi_gym.registry import PROGRAM_CALL_IDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="NPI-Sort-v0", choices=PROGRAM_CALL_IDS, metavar="ENV_ID", help="a program-call env id")
    parser.add_argument("--env-kwargs", type=json.loads, default={"max_length": 3}, help="gym.make keyword arguments, as JSON")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--env-runners", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1000, help="env steps per iteration")
    args = parser.parse_args()
    import ray

    ray.init(num_cpus=max(2, args.env_runners), include_dashboard=False)
    start = time.perf_counter()
    try:
        curve, _ = train_ppo(args.env, args.iterations, env_kwargs=args.env_kwargs, env_runners=args.env_runners, batch=args.batch)
    finally:
        ray.shutdown()
    seconds = time.perf_counter() - start
    write_markdown("rllib_ppo.md", [
        f"# RLlib PPO with action masking on {args.env}",
        "",
        f"Command: `{command_line(__file__)}`; {args.env_runners} env runners, RLlib's ActionMaskingTorchRLModule, "
        f"env kwargs {args.env_kwargs}; {seconds:.0f} s wall-clock on a shared 2-core CPU.",
        "",
        md_row("iteration", "env steps", "mean episode length", "mean episode return"),
        md_row("---:", "---:", "---:", "---:"),
        *(md_row(i + 1, f"{it['num_env_steps_sampled_lifetime']:.0f}", f"{it['episode_len_mean']:.1f}", f"{it['episode_return_mean']:.3f}")
          for i, it in enumerate(curve)),
    ], echo=True)


if __name__ == "__main__":
    main()
