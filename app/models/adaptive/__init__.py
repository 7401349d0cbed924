"""The adaptive model."""
