"""What every agent here shares: checkpoints, the resume policy, config flags, seeds, run logs (no torch at import)."""
