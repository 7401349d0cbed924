"""Numerics shared by several models: input validation, progress reporting, fast normals,
activation functions and the NNGP dual kernel (used by tokens and widenet)."""
