"""The tokens model."""
