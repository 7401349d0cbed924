"""The exploration model."""
