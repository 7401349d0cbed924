"""The exploration tab."""
