"""What every agent here shares: checkpoints, the resume policy, config flags and field checks, seeds, run logs (no torch at import)."""
