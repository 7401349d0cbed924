"""noisescope app models: one param state machine per tab (no panel imports)."""
