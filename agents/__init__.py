"""Agents that act in npi-gym environments (torch lives here)."""
