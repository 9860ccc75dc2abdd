"""packline: tool control for semiconductor packaging lines.

Async drivers for each tool role (`packline.drivers`), a simulated line on the wire
(`packline.sim_instruments`), sequence scripts of the claimed methods and the engine that runs
them (`packline.sequences`), station files, clocks and units (here), and the `packline` CLI.
"""

__version__ = "0.1.0"
