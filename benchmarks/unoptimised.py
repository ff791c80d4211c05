"""`aoai-audit` with this branch's in-process optimisations switched off, for the output-identity check:

    python benchmarks/bench_offline.py --compare "python benchmarks/unoptimised.py"

Off: parsing each distinct policy text once, the memoised dimensions and assignments, gc.freeze, the resolver's
remembered node counts, resolved sections and scope prefixes (resolve/effective.py REMEMBER), the
per-statement walks, tag look-ups, word pre-tests and expression readings (analysis.py REMEMBER). The
Terraform and JSON-line fixes are not switchable (they change the algorithm, not the result); their
reports were compared with the previous commit's when they were made (benchmarks/README.md).
"""

from __future__ import annotations

import gc

import aoai_audit.analysis as analysis
import aoai_audit.policy.rawxml as rawxml
import aoai_audit.resolve.effective as effective
from aoai_audit.entry import main

rawxml._PARSED_MAX = 0
analysis._memoised = lambda _kind, _a, _b, compute: compute()
gc.freeze = lambda: None
effective.REMEMBER = False
analysis.REMEMBER = False

if __name__ == "__main__":
    main()
