"""Rule documentation generated from rule metadata (one source of truth: the rule module)."""

from __future__ import annotations

from .rules import Rule


def rule_markdown(rule: Rule) -> str:
    lines = [
        f"# {rule.id}: {rule.title}",
        "",
        f"- **Severity**: {rule.severity.value}" + (" (fails the default CI gate)" if rule.severity.value == "high" else ""),
        f"- **Area**: {rule.area_title}",
        f"- **Needs**: {', '.join(sorted(rule.requires)) or 'nothing beyond the estate'}",
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
    lines += ["", f"Suppress with `<!-- aoai-audit: ignore {rule.id} reason -->` in the policy, or in the config file."]
    return "\n".join(lines) + "\n"
