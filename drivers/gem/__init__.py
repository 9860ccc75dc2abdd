"""The GEM host driver (SEMI E30): one driver for any GEM tool, told by its tool dictionary
what each id means (docs/protocols/secs-gem.md, decision 0011)."""
