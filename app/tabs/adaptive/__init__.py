"""The adaptive tab."""
