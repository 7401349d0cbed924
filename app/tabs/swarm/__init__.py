"""The swarm tab."""
