"""`aoai-audit` with this branch's in-process optimisations switched off, for the output-identity check:

    python benchmarks/bench_offline.py --compare "python benchmarks/unoptimised.py"

Off: parsing each distinct policy text once, the memoised dimensions and assignments, gc.freeze, shared
attribute tuples and texts in policy trees, shared strings in ARM templates, and streaming Terraform JSON (the
plan is then read whole with json.load). The Terraform and JSON-line fixes are not switchable (they change the
algorithm, not the result); their reports were compared with the previous commit's when they were made
(benchmarks/README.md).
"""

from __future__ import annotations

import gc

import aoai_audit.analysis as analysis
import aoai_audit.policy.rawxml as rawxml
import aoai_audit.sources.arm as arm
import aoai_audit.sources.terraform as terraform
from aoai_audit.entry import main

rawxml._PARSED_MAX = 0
rawxml._SHARED_MAX = 0
arm._share_strings = lambda _doc: None
terraform.stream_show_json = lambda _path: None
analysis._memoised = lambda _kind, _a, _b, compute: compute()
gc.freeze = lambda: None

if __name__ == "__main__":
    main()
