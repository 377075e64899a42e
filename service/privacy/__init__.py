"""Personal data kept out of storage, logs and exports (``redaction``); the retention
purge of stored texts lives with the tables it purges (``service/feedback/retention.py``)."""
