"""Personal data kept out of storage, logs and exports (``redaction``) and the retention
purge of stored message texts (``retention``)."""
