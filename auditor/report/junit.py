"""JUnit XML so Azure DevOps and GitLab test tabs show the gate: a suite per rule, a case per resource.

Findings at or above the gate threshold fail their case; below it the case passes with the finding in
system-out; suppressed or baselined findings are skipped; rules not evaluated are one skipped case.
"""

from __future__ import annotations

from collections import defaultdict
from xml.etree import ElementTree as ET

from ..engine import AuditResult
from ..rules import Registry


def render_junit(result: AuditResult, registry: Registry) -> str:
    threshold = result.settings.fail_on
    by_rule: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for f in result.findings:
        by_rule[f.rule_id][f.resource].append(f)
    suites = ET.Element("testsuites", name="aoai-audit")
    not_evaluated = {n.rule.id: n.reason for n in result.not_evaluated}
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for rule in result.rules:
        suite = ET.SubElement(suites, "testsuite", name=f"{rule.id} {rule.title}")
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        if rule.id in not_evaluated:
            case = ET.SubElement(suite, "testcase", classname=rule.id, name="not evaluated")
            ET.SubElement(case, "skipped", message=not_evaluated[rule.id])
            counts["tests"] += 1
            counts["skipped"] += 1
        for resource, findings in sorted(by_rule.get(rule.id, {}).items()):
            case = ET.SubElement(suite, "testcase", classname=rule.id, name=resource)
            counts["tests"] += 1
            active = [f for f in findings if f.active]
            failing = [f for f in active if f.severity.at_least(threshold)]
            if failing:
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", message=failing[0].message, type=rule.severity.value)
                failure.text = "\n\n".join(_detail(f, rule.fix) for f in failing)
            elif not active:
                counts["skipped"] += 1
                reason = findings[0].suppressed_by or "in baseline"
                ET.SubElement(case, "skipped", message=f"suppressed: {reason}")
            else:
                ET.SubElement(case, "system-out").text = "\n\n".join(_detail(f, rule.fix) for f in active)
        if counts["tests"] == 0:
            ET.SubElement(suite, "testcase", classname=rule.id, name="no findings")
            counts["tests"] = 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _detail(f, fix: str) -> str:
    where = f.location.label() if f.location else ""
    return f"{f.message}\nat {where}\nfix: {fix}"
