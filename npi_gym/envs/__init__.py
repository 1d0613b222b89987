"""One module per task environment."""
