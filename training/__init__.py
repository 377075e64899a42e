"""Command line: train, evaluate and retrain models; manage the KB and orders."""
