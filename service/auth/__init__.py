"""Who may call the API: scoped API keys (environment and database), the scope each route
needs, rate limits per key and per client address, and the refusal to serve an unprotected
non-loopback address. Nothing here speaks HTTP; ``service/deps.py`` is the edge."""
