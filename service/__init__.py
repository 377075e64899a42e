"""FastAPI service: the versioned REST API over the triage models and knowledge base."""
