"""--previous: every new, fixed and changed finding by rule and resource, and the change in unattributed money."""

from __future__ import annotations

import copy
import json
import re

from aoai_audit.report.diff import diff_reports, render_diff
from aoai_audit.report.html import render_html
from aoai_audit.report.json_report import render_json
from test_usage import example_result


def _previous(doc: dict) -> tuple[dict, dict, dict, dict]:
    old = copy.deepcopy(doc)
    dropped = old["findings"].pop(0)  # absent before: new now
    gone = {**old["findings"][0], "fingerprint": "0" * 16, "rule_id": "TM006", "resource": "service/x/apis/gone"}
    old["findings"].append(gone)  # present before only: fixed
    changed = old["findings"][1]
    changed["severity"] = "low" if changed["severity"] != "low" else "high"
    old["usage"]["unknown"]["money"] = doc["usage"]["unknown"]["money"] + 520.0
    return old, dropped, gone, changed


def test_html_lists_new_fixed_and_changed_by_rule_and_resource_and_the_money_change(registry):
    result = example_result(registry)
    doc = json.loads(render_json(result, registry))
    old, dropped, gone, changed = _previous(doc)
    assert gone["rule_id"] == "TM006"
    html = render_html(result, registry, previous=old)
    section = html[html.index('id="changes"'):html.index("</section>", html.index('id="changes"'))]
    section = section.replace("<wbr>", "")  # a path's line-break hints (report/wrap.py) are not part of its text
    rows = re.findall(r'<tr data-change="(\w+)"><td[^>]*>\w+</td><td>([^<]+)</td><td><code>([^<]+)</code>', section)
    assert ("new", dropped["rule_id"], dropped["resource"]) in rows
    assert ("fixed", "TM006", "service/x/apis/gone") in rows
    assert ("changed", changed["rule_id"], changed["resource"]) in rows
    assert len(rows) == 3
    assert "−USD 520.00" in section and "went to no team" in section  # cheaper than before by the planted amount


def test_the_diff_command_says_the_same(registry):
    result = example_result(registry)
    doc = json.loads(render_json(result, registry))
    old, *_ = _previous(doc)
    d = diff_reports(old, doc)
    assert d.unattributed is not None and d.unattributed.delta == -520.0
    assert "went to no team: USD" in render_diff(d) and "(-USD 520.00)" in render_diff(d)
    # without usage on one side there is no money change to state, never a zero
    old.pop("usage")
    assert diff_reports(old, doc).unattributed is None
