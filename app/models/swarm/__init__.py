"""The swarm model."""
