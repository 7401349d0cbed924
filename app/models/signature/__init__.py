"""The signature model."""
