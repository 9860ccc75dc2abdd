"""Protocol families: what the tools of one wire protocol share, written once
(docs/protocols/conventions.md): the family's wire rules, its spec binding and its driver base.

* `ascii_host`: line-based host links answering `OK [payload]` or `ERR <code> <text>`
  (wire bonder, dicing saw);
* `scpi`: SCPI command sets reporting refusals through the `SYST:ERR?` queue (laser, grinder);
* `modbus_plc`: PLC register maps with FC43 identity and a serial number block (plasma
  cleaner, laminator).
"""
