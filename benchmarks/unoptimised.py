"""`aoai-audit` with this build's in-process optimisations switched off, for the output-identity check:

    python benchmarks/bench_offline.py --compare "python benchmarks/unoptimised.py"

Off:
- parsing each distinct policy text once, and shared attribute tuples and texts in policy trees;
- the memoised dimensions and assignments, per-statement walks, tag look-ups, word pre-tests and expression
  readings (analysis.py);
- the resolver's remembered node counts and resolved sections (resolve/effective.py);
- gc.freeze;
- plugin discovery from the installed files (importlib.metadata is asked instead);
- shared strings in ARM templates, and streaming Terraform JSON (the plan is then read whole with json.load).
The Terraform and JSON-line fixes are not switchable (they change the algorithm, not the result); their reports
were compared with the previous commit's when they were made (benchmarks/README.md).
"""

from __future__ import annotations

import gc

import aoai_audit.analysis as analysis
import aoai_audit.policy.rawxml as rawxml
import aoai_audit.resolve.effective as effective
import aoai_audit.rules as rules
import aoai_audit.sources.arm.reader as arm_reader
import aoai_audit.sources.terraform.stream as terraform_stream
from aoai_audit.entry import main

rawxml._PARSED_MAX = 0
rawxml._SHARED_MAX = 0
analysis._memoised = lambda _kind, _a, _b, compute: compute()
analysis.REMEMBER = False
effective.REMEMBER = False
gc.freeze = lambda: None
rules.FAST_DISCOVERY = False
arm_reader._share_strings = lambda _doc: None
terraform_stream.stream_show_json = lambda _path: None

if __name__ == "__main__":
    main()
