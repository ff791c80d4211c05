"""The usage phase, run once by the engine after the context is built (phase.py): read (files.py, live.py,
billed.py), price (prices.py, served.py), tally (score.py into tally.py's types), reconcile (reconcile.py),
and the one ledger every money figure and export reads (ledger.py; summary.py is its plain-data form)."""
