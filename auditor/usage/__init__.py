"""Usage: what was actually attributed, in tokens and money (read → price → score)."""
