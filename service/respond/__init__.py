"""The /v1/respond decision: policy, order auto-replies, suggestions."""
