"""Insights over the messages the service has seen: emerging issues, knowledge-base gaps."""
