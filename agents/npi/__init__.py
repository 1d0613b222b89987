"""The Neural Programmer-Interpreter agent: model, behavioural-cloning trainer, checkpoints, acting."""

from agents.npi.agent import NPIAgent
from agents.npi.checkpoint import CheckpointError, load_checkpoint
from agents.npi.config import NPIConfig
from agents.npi.model import NPI
from agents.npi.train import train

__all__ = ["NPI", "NPIAgent", "NPIConfig", "CheckpointError", "load_checkpoint", "train"]
