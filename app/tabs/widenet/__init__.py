"""The widenet tab."""
