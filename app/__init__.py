"""noisescope application package."""
