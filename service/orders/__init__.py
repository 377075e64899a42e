"""Orders: the domain type, connectors (embedded SQL table, shop HTTP API), import, samples."""
