"""Rule documentation generated from rule metadata (one source of truth: the rule module)."""

from __future__ import annotations

from .rules import Rule


def rule_markdown(rule: Rule) -> str:
    lines = [
        f"# {rule.id}: {rule.title}",
        "",
        f"- **Severity**: {rule.severity.value}" + (
            " (says part of the estate was not audited: fails the gate at every `--fail-on` but `never`)"
            if rule.not_audited else " (fails the default CI gate)" if rule.severity.value == "high" else ""),
        f"- **Area**: {rule.area_title}",
        f"- **Needs**: {', '.join(sorted(rule.requires)) or 'nothing beyond the estate'}" + "".join(
            f"; judges {p.what} where the input carries {', '.join(sorted(p.requires))}" for p in rule.parts),
        "",
        "## Why it matters",
        "",
        rule.rationale,
        "",
        "## How it is detected",
        "",
        rule.detection,
        "",
        "## How to fix",
        "",
        rule.fix,
    ]
    if rule.fix_snippet:
        lines += ["", "```xml" if rule.fix_snippet.lstrip().startswith("<") else "```", rule.fix_snippet, "```"]
    if rule.notes:
        lines += ["", "## Notes", "", rule.notes]
    if rule.references:
        lines += ["", "## References", ""] + [f"- [{title}]({url})" for title, url in rule.references]
    if rule.not_audited:
        lines += ["", f"No baseline, inline comment or wildcard hides {rule.id}: only a config suppression naming "
                  "`rule: " + rule.id + "` and the exact `resource` of the finding, with a reason."]
    else:
        lines += ["", f"Suppress with `<!-- aoai-audit: ignore {rule.id} reason -->` in the policy (it covers that "
                  "resource and its operations), or in the config file."]
    return "\n".join(lines) + "\n"


def index_markdown(rules: list[Rule]) -> str:
    lines = ["# Rule catalogue", "", "Generated from the rule modules by `aoai-audit docs`; do not edit by hand.", ""]
    area = None
    for rule in rules:
        if rule.area != area:
            area = rule.area
            lines += ["", f"## {rule.area_title}", "", "| id | severity | title |", "|---|---|---|"]
        lines.append(f"| [{rule.id}]({rule.id}.md) | {rule.severity.value} | {rule.title} |")
    return "\n".join(lines) + "\n"


def write_docs(rules: list[Rule], directory: str) -> list[str]:
    """Write one page per rule and an index; return the files written."""
    import os

    os.makedirs(directory, exist_ok=True)
    written = []
    for rule in rules:
        path = os.path.join(directory, f"{rule.id}.md")
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(rule_markdown(rule))
        written.append(path)
    index = os.path.join(directory, "README.md")
    with open(index, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(index_markdown(rules))
    return [*written, index]
