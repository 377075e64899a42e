"""Background jobs: a table of their state, runners (in-process or Celery), job functions."""
