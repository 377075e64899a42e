"""Sample help centre of the demo store (Marlow & Finch), shipped as package data."""

from pathlib import Path

SAMPLE_HELP_CENTRE_DIR = Path(__file__).resolve().parent
DEV_QUERIES_PATH = SAMPLE_HELP_CENTRE_DIR / "dev_queries.jsonl"
