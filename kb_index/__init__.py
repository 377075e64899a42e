"""Knowledge base: ingest, chunking, hybrid dense + lexical retrieval, persistence."""
