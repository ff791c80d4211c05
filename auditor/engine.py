"""Run the selected checks over a resolved estate; apply suppressions and a baseline; decide the gate."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from .analysis import forget_walks
from .config import Settings
from .context import AuditContext, build_context
from .estate import CARRIES_COST_CENTRES, CARRIES_ESTATE, CARRIES_PLATFORM_USAGE, CARRIES_USAGE, Estate
from .findings import Finding, Location
from .rules import Registry, Rule

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
INPUT_HINTS = {
    CARRIES_USAGE: "--usage FILE, or scan live",
    CARRIES_PLATFORM_USAGE: "platform rows in --usage, or scan live",
    CARRIES_COST_CENTRES: "--cost-centres FILE",
}
# Why a rule that needs the whole estate is not evaluated on loose policy or fragment files.
STATEMENT_LEVEL = (
    "statement-level audit: loose policy and fragment files are checked statement by statement with every "
    "rule that can judge a statement on its own; this rule judges the estate as a whole, so it is evaluated "
    "when the estate is scanned (APIOps folder, ARM/Terraform JSON, snapshot or --subscription)"
)


@dataclass(frozen=True)
class NotEvaluated:
    rule: Rule
    reason: str


@dataclass(frozen=True)
class AuditResult:
    ctx: AuditContext
    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]  # the rules that were selected
    not_evaluated: tuple[NotEvaluated, ...] = ()
    warnings: tuple[str, ...] = ()
    unloaded: tuple[str, ...] = ()  # selected rules whose check failed to load: the audit is incomplete
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    @property
    def estate(self) -> Estate:
        return self.ctx.estate

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def active(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.active)

    def failing(self, threshold: str | None = None) -> tuple[Finding, ...]:
        level = threshold or self.settings.fail_on
        return tuple(f for f in self.active if f.severity.at_least(level))

    @property
    def saw_nothing(self) -> bool:
        """True when no source yielded anything to audit: the gate must not pass on that."""
        e = self.estate
        return not (e.services or e.accounts or e.diagnostic_settings or e.role_assignments)

    @property
    def unparsed_statements(self) -> tuple[str, ...]:
        """Loose files of a statement-level audit that could not be parsed. Their statements were not checked and
        nothing else in the audit stands for them, so the gate cannot pass (a whole-estate audit reports them as
        AU002 beside everything else it saw)."""
        if not self.estate.statement_level:
            return ()
        gaps = [g.target for g in self.estate.gaps if g.kind == "unparseable"]
        broken = [p.origin.path or resource for resource, p in self.ctx.policies() if p.error is not None]
        return tuple(dict.fromkeys(gaps + broken))

    def exit_code(self, threshold: str | None = None) -> int:
        if self.saw_nothing or self.unloaded or self.unparsed_statements:
            return EXIT_USAGE
        return EXIT_FINDINGS if self.failing(threshold) else EXIT_OK


def load_baseline(path: str) -> frozenset[str]:
    """Fingerprints from a previous JSON report (or a bare list of fingerprints)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    items = data.get("findings", []) if isinstance(data, dict) else data
    return frozenset(
        (item.get("fingerprint") if isinstance(item, dict) else str(item)) for item in items if item
    )


def _inline_suppressions(ctx: AuditContext) -> dict[str, dict[str, str]]:
    by_place: dict[str, dict[str, str]] = {}
    for _resource, policy in ctx.policies():
        doc = policy.document
        if doc is None or not doc.suppressions:
            continue
        key = policy.origin.path or policy.origin.resource_id or ""
        for s in doc.suppressions:
            for rule_id in s.rule_ids:
                by_place.setdefault(key, {})[rule_id] = s.reason or "inline suppression"
    return by_place


def _place(location: Location) -> str:
    return location.path or location.resource_id or ""


def apply_suppressions(
    findings: list[Finding], ctx: AuditContext, baseline: frozenset[str]
) -> tuple[list[Finding], list[str]]:
    inline = _inline_suppressions(ctx)
    warnings = []
    today = ctx.settings.today
    live_rules = []
    for rule in ctx.settings.suppressions:
        if rule.expired(today):
            warnings.append(
                f"suppression of {rule.rule} on '{rule.resource}' expired on {rule.expires}; it no longer applies"
            )
        else:
            live_rules.append(rule)
    out = []
    for f in findings:
        reason = inline.get(_place(f.location), {}).get(f.rule_id)
        if reason is not None:
            reason = f"inline: {reason}"
        else:
            for rule in live_rules:
                if rule.rule in ("*", f.rule_id) and fnmatch.fnmatchcase(f.resource, rule.resource):
                    reason = f"config: {rule.reason}" + (f" (until {rule.expires})" if rule.expires else "")
                    break
        out.append(replace(f, suppressed_by=reason, in_baseline=f.fingerprint in baseline))
    return out, warnings


def _crash_finding(rule: Rule, exc: Exception) -> Finding:
    """A check that crashed did not evaluate its rule: report that as a failure of the rule itself."""
    return rule.finding(
        "engine",
        f"the check for {rule.id} failed and did not evaluate this estate ({type(exc).__name__}: {exc}); "
        "treat the rule as failing until fixed",
    )


def run_audit(
    estate: Estate,
    registry: Registry,
    settings: Settings,
    baseline: frozenset[str] = frozenset(),
) -> AuditResult:
    if settings.reader_principal:
        estate = replace(estate, reader_principal=settings.reader_principal)
    ctx = build_context(estate, settings)
    findings: list[Finding] = []
    not_evaluated = []
    selected = []
    carries = estate.carries | ({CARRIES_COST_CENTRES} if settings.cost_centres is not None else set())
    for check in registry.checks:
        rule = check.rule
        if not settings.selects(rule.id):
            continue
        selected.append(rule)
        missing = sorted(rule.requires - carries)
        if missing == [CARRIES_ESTATE]:
            not_evaluated.append(NotEvaluated(rule, STATEMENT_LEVEL))
            continue
        if missing:
            kinds = ", ".join(sorted({s.kind for s in estate.sources})) or "no source"
            hints = sorted({INPUT_HINTS[m] for m in missing if m in INPUT_HINTS})
            reason = f"needs {', '.join(missing)}; {kinds} input does not carry it"
            not_evaluated.append(NotEvaluated(rule, reason + (f" (give {'; '.join(hints)})" if hints else "")))
            continue
        try:
            findings.extend(check.run(ctx))
        except Exception as exc:  # fail closed, never crash the audit
            findings.append(_crash_finding(rule, exc))
    forget_walks()
    findings = [f.with_fingerprint(estate.root) for f in findings]
    findings = list({f.fingerprint: f for f in findings}.values())
    findings, warnings = apply_suppressions(findings, ctx, baseline)
    findings.sort(key=Finding.sort_key)
    return AuditResult(
        ctx=ctx,
        findings=tuple(findings),
        rules=tuple(selected),
        not_evaluated=tuple(not_evaluated),
        warnings=tuple(warnings) + registry.errors,
        unloaded=tuple(r for r in registry.failed if settings.selects(r)),
    )
