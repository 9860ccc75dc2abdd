"""SECS/GEM: the SECS-II codec (SEMI E5) and the HSMS-SS link (SEMI E37) on asyncio.

See docs/protocols/secs-gem.md for what is implemented of each standard.
"""
