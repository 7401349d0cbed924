"""noisescope app tabs: one Panel viewer per tab."""
