"""Conventions that several tools' protocols share, written once (docs/protocols/conventions.md).

* `ascii_host`: line-based host links answering `OK [payload]` or `ERR <code> <text>`
  (wire bonder, dicing saw);
* `scpi`: SCPI command sets reporting refusals through the `SYST:ERR?` queue (laser, grinder);
* `modbus_plc`: PLC register maps with FC43 identity and a serial number block (plasma
  cleaner, laminator).
"""
