"""The widenet model."""
