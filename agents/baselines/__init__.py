"""RL baselines on the npi-gym envs through stable-baselines3 / sb3-contrib, and the harness for agents named by path.

``ALGORITHMS`` (one table) gives the ``npi-gym train`` subcommands and the rl-zoo3-style
``hyperparams/<algo>.yml`` files; ``SB3Agent`` plays a trained model through ``agents.evaluate``;
``RandomAgent`` is the floor and ``ReturnAtOnce`` the trivial policy; ``build_agent`` constructs any ``module:Name`` agent with the env.
"""

from agents.baselines.algorithms import ALGORITHMS, Algorithm, algorithm
from agents.baselines.external import build_agent, load_factory
from agents.baselines.random_agent import RandomAgent
from agents.baselines.sb3_agent import SB3Agent, is_sb3_model
from agents.baselines.trivial import ReturnAtOnce

__all__ = ["ALGORITHMS", "Algorithm", "RandomAgent", "ReturnAtOnce", "SB3Agent", "algorithm", "build_agent", "is_sb3_model", "load_factory"]
