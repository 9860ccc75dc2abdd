"""The sequence engine."""
