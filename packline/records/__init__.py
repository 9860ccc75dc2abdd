"""A run's records for people and their tools: tables, exports, reports, tool time.

    from packline.records import open_records

    with open_records("last") as run:              # or a run id, or a unique prefix of one
        run.header()["method"]                      # the run, its recipe and station
        run.measurements()                          # pandas DataFrames, one row per record
        run.traces(); run.steps(); run.alarms(); run.claim_checks()
        run.site_map("W01")                         # the wafer's twin, one row per site
        run.maps(after="irreversible")              # every wafer after each irreversible step

The modules, one concept each: `reader` (the tables), `sites` (a twin as one row per site),
`export` (the tables as CSV or Parquet files), `tooltime` (each tool's time by E10 state,
utilisation, OEE), `alarms` (each tool's failures, downtime and MTBF across runs), `spc` (a
measurement's control chart and capability across runs; `spcpage` draws it as a page),
`retention` (a run archived to one file, runs pruned), `dashboard` (the records in a
browser, live), `claimsites` (which sites fail a claim condition), `limits` (which limits a
trace is drawn against), `figures` (the charts, Bokeh), `report` (the HTML page), and
`sections`, `wafermaps` and `markup` (what the page's sections hold). See docs/results.md.
"""

from .reader import MAP_POINTS, TABLES, RunRecords, open_records
from .sites import site_table

__all__ = ["MAP_POINTS", "TABLES", "RunRecords", "open_records", "site_table"]
