"""ML models of the triage service: encoder, intent classifier, signals, artifacts."""
