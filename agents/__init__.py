"""Agents that act in npi-gym environments (torch lives in the subpackages, imported on use)."""

from agents.base import Agent, BatchAgent, evaluate, format_results, run_episodes

__all__ = ["Agent", "BatchAgent", "evaluate", "format_results", "run_episodes"]
