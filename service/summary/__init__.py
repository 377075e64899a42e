"""Hand-off summaries of conversations."""
