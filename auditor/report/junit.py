"""JUnit XML so Azure DevOps and GitLab test tabs show the gate: a suite per rule, a case per resource.

Findings at or above the gate threshold fail their case; below it the case passes with the finding in
system-out; suppressed or baselined findings are skipped; rules not evaluated are one skipped case.
"""

from __future__ import annotations

from collections import defaultdict
from xml.etree import ElementTree as ET

from ..attribution.summary import attribution_dict
from ..engine import AuditResult
from ..rules import Registry
from .escape import visible


def _x(text: str) -> str:
    """XML 1.0 forbids most control characters even as references: show them as escapes instead."""
    return visible(text, keep="\t\n")


def render_junit(result: AuditResult, registry: Registry) -> str:
    gate = set(result.failing())
    by_rule: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for f in result.findings:
        by_rule[f.rule_id][f.resource].append(f)
    suites = ET.Element("testsuites", name="aoai-audit")
    not_evaluated = {n.rule.id: n.reason for n in result.not_evaluated}
    crashed = {c.rule.id: c.error for c in result.crashed}
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for rule in result.rules:
        suite = ET.SubElement(suites, "testsuite", name=f"{rule.id} {rule.title}")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if rule.id in not_evaluated:
            case = ET.SubElement(suite, "testcase", classname=rule.id, name="not evaluated")
            ET.SubElement(case, "skipped", message=_x(not_evaluated[rule.id]))
            counts["tests"] += 1
            counts["skipped"] += 1
        if rule.id in crashed:  # an error, not a failure: the check itself broke, the estate was not judged
            case = ET.SubElement(suite, "testcase", classname=rule.id, name="check crashed")
            ET.SubElement(case, "error", message=_x(f"the check crashed: {crashed[rule.id]}"), type="crash").text = _x(
                f"the check for {rule.id} raised {crashed[rule.id]}; the rule was not evaluated and the audit is "
                "incomplete (exit 2)")
            counts["tests"] += 1
            counts["errors"] += 1
        for resource, findings in sorted(by_rule.get(rule.id, {}).items()):
            case = ET.SubElement(suite, "testcase", classname=rule.id, name=_x(resource))
            counts["tests"] += 1
            active = [f for f in findings if f.active]
            failing = [f for f in active if f in gate]
            hidden = [f"suppressed by {f.suppressed_by or 'the baseline'}: {f.message}" for f in findings if not f.active]
            if failing:
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", message=_x(failing[0].message), type=rule.severity.value)
                failure.text = _x("\n\n".join(_detail(f, rule.fix) for f in failing))
            elif not active:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=_x("; ".join(hidden)))
            rest = [_detail(f, rule.fix) for f in active if f not in failing] + (hidden if active else [])
            if rest:  # below the gate, or beside the failure: what else was found and what was suppressed
                ET.SubElement(case, "system-out").text = _x("\n\n".join(rest))
        if counts["tests"] == 0:
            ET.SubElement(suite, "testcase", classname=rule.id, name="no findings")
            counts["tests"] = 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    _attribution_suite(suites, result)
    if result.warnings:  # expired suppressions, inline ones without a reason: not tests, but never silent
        notes = ET.SubElement(suites, "testsuite", name="aoai-audit warnings", tests="0", failures="0", errors="0",
                              skipped="0")
        ET.SubElement(notes, "system-err").text = _x("\n".join(f"warning: {w}" for w in result.warnings))
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _attribution_suite(suites: ET.Element, result: AuditResult) -> None:
    """The architecture and money by path as JUnit properties (no tests: a header, as CI tabs show it)."""
    doc = attribution_dict(result.ctx)
    suite = ET.SubElement(suites, "testsuite", name="aoai-audit attribution", tests="0", failures="0", errors="0",
                          skipped="0")
    props = ET.SubElement(suite, "properties")
    items = [("architecture", doc["architecture"]), ("implication", doc["implication"])]
    if doc["money"]:
        m = doc["money"]
        items += [(f"money: {b['bucket']}", f"{m['currency']} {b['money']:.2f} ({b['tokens']} tokens)")
                  for b in m["buckets"]]
        nt = m["went_to_no_team"]
        items.append(("money: went to no team", f"{m['currency']} {nt['money']:.2f} ({nt['tokens']} tokens)"))
        items.append(("money: total", f"{m['currency']} {m['total']['money']:.2f} ({m['total']['tokens']} tokens)"))
    for name, value in items:
        ET.SubElement(props, "property", name=_x(name), value=_x(value))


def _detail(f, fix: str) -> str:
    where = f.location.label() if f.location else ""
    return f"{f.message}\nat {where}\nfix: {fix}"
