"""Simulated GEM tools: a generic GEM equipment on HSMS, configured by a tool dictionary."""
