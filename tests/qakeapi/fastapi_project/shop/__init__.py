"""A shop API written for FastAPI."""
