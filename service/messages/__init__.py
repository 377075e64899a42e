"""The message log: every triaged message, redacted, with its triage, decision and drafts."""
