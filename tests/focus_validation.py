"""Validate a FOCUS CSV with the FinOps Foundation's `focus-validator` (PyPI), wrapped for what it gets wrong.

focus-validator 1.0.0 (the release on PyPI here) knows rule sets up to FOCUS 1.0, and its 1.0 rules spell four
columns the way a draft did: Provider, Publisher, InvoiceIssuer and ResourceID, where the specification (1.0 to
1.2, FOCUS_Spec specification/columns/{provider,publisher,invoiceissuer,resourceid}.md) says ProviderName,
PublisherName, InvoiceIssuerName and ResourceId; its SkuPriceId rule still reads ChargeType, the 1.0-preview
name of ChargeCategory; and it reads its currency-code list from a path relative to the working directory. The
wrapper validates a copy with the validator's names and runs it from the package's folder; the FOCUS 1.2
requirements the validator does not know are checked by the tests themselves.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from pathlib import Path

SPEC_TO_VALIDATOR = {"InvoiceIssuerName": "InvoiceIssuer", "ProviderName": "Provider", "PublisherName": "Publisher",
                     "ResourceId": "ResourceID"}
COPIED = {"ChargeCategory": "ChargeType"}  # the validator's SkuPriceId rule still reads the old name


@contextlib.contextmanager
def _cwd(path: Path):
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def why_unavailable() -> str | None:
    try:
        import focus_validator.validator  # noqa: F401
    except ImportError as exc:
        return f"focus-validator is not installed (pip install -e '.[test]'): {exc}"
    return None


def validate(path: str | Path) -> list[tuple[str, str, str]]:
    """Every check the validator ran as (check, status, detail); a file that conforms has none that failed."""
    import focus_validator
    from focus_validator.validator import Validator

    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "focus.csv")
        with open(copy, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            extra = [i for i, c in enumerate(header) if c in COPIED]
            writer.writerow([SPEC_TO_VALIDATOR.get(c, c) for c in header] + [COPIED[header[i]] for i in extra])
            writer.writerows(row + [row[i] for i in extra] for row in rows)
        validator = Validator(data_filename=copy, output_destination=None, output_type="console",
                              rules_version="1.0")
        with _cwd(Path(focus_validator.__file__).parent.parent):
            validator.load()
            result = validator.spec_rules.validate(validator.focus_data)
    failures = {}
    if result.failure_cases is not None:
        for _, case in result.failure_cases.iterrows():
            failures.setdefault(case["Check Name"], f"{case['Description']}: {case['Values']}")
    return [(name, check.status.value, failures.get(name, str(check.error or "")))
            for name, check in sorted(result.checklist.items())]
