"""The signature tab."""
