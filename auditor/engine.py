"""The pipeline: resolve the estate once, run the usage phase once, run the selected checks, price the findings
from the ledger; apply suppressions and a baseline; decide the gate."""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from .analysis import forget_walks
from .config import Settings
from .context import AuditContext, build_context, usage_scope
from .estate import CARRIES_COST_CENTRES, CARRIES_ESTATE, CARRIES_PLATFORM_USAGE, CARRIES_USAGE, Estate
from .estate_identity import estate_of, estate_of_path, estate_roots
from .exposure import price_findings, rank_key
from .findings import Finding
from .policy.secrets import redact
from .project_root import find_project_root
from .rules import Registry, Rule
from .usage.names import adopt_usage_service_name, unmatched_names
from .usage.phase import LiveUsage, run_usage

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
INPUT_HINTS = {
    CARRIES_USAGE: "--usage FILE, or scan live",
    CARRIES_PLATFORM_USAGE: "platform rows in --usage, or scan live",
    CARRIES_COST_CENTRES: "--cost-centres FILE",
}
# When a usage file was given but holds no gateway rows (an estate with no gateway, or only platform metrics).
GATEWAY_ROWS_HINT = "gateway rows in --usage (the token-metric or LLM-log query `aoai-audit kql` prints), or scan live"


def carried(estate: Estate, settings: Settings) -> frozenset[str]:
    return estate.carries | ({CARRIES_COST_CENTRES} if settings.cost_centres is not None else set())


def inputs_named(kinds: Iterable[str], usage_given: bool) -> str:
    """The inputs a 'not evaluated' reason speaks of: the sources' kinds, and the usage when some was given (it is
    not a source of its own, so "arm input" alone would tell a user who gave --usage to give it)."""
    return f"{', '.join(sorted(set(kinds))) or 'no source'} input" + (" and the usage given" if usage_given else "")


def not_carried_by(inputs: str) -> str:
    return f"{inputs} {'do' if ' and ' in inputs else 'does'} not carry"


def _hint(kind: str, estate: Estate) -> str:
    return GATEWAY_ROWS_HINT if kind == CARRIES_USAGE and estate.usage is not None else INPUT_HINTS[kind]


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
    partly_evaluated: tuple[NotEvaluated, ...] = ()  # rules judged on part of their requirements: the rest, why
    warnings: tuple[str, ...] = ()
    unloaded: tuple[str, ...] = ()  # selected rules whose check failed to load: the audit is incomplete
    crashed: tuple[CrashedCheck, ...] = ()  # selected checks that raised: the audit is incomplete
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    project_root: str = ""  # absolute git top level of the scanned path: SARIF URIs and fingerprints are relative to it

    @property
    def estate(self) -> Estate:
        return self.ctx.estate

    @property
    def carries(self) -> frozenset[str]:
        """What the audit's inputs carry, the --cost-centres map included: what decides a rule is evaluated."""
        return carried(self.estate, self.settings)

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def active(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.active)

    def failing(self, threshold: str | None = None) -> tuple[Finding, ...]:
        """Active findings at or above the gate; what was not audited fails it at every level but `never`."""
        level = threshold or self.settings.fail_on
        return tuple(f for f in self.active if f.severity.at_least(level) or (f.not_audited and level != "never"))

    @property
    def incomplete(self) -> bool:
        """A selected check did not run to the end (failed to load or raised): the tool could not do its job."""
        return bool(self.unloaded or self.crashed)

    @property
    def saw_nothing(self) -> bool:
        """True when no source yielded anything to audit: the gate must not pass on that."""
        e = self.estate
        return not (e.services or e.accounts or e.diagnostic_settings or e.role_assignments)

    @property
    def unparsed_statements(self) -> tuple[str, ...]:
        """Loose files of a statement-level audit that could not be parsed: their statements were not checked (AU002,
        which fails the gate at every threshold but `never`)."""
        if not self.estate.statement_level:
            return ()
        gaps = [g.target for g in self.estate.gaps if g.kind == "unparseable"]
        broken = [p.origin.path or resource for resource, p in self.ctx.policies() if p.error is not None]
        return tuple(dict.fromkeys(gaps + broken))

    @property
    def nothing_parsed(self) -> bool:
        """A statement-level audit none of whose files could be parsed: nothing was audited at all (exit 2)."""
        return bool(self.unparsed_statements) and all(p.error is not None for _, p in self.ctx.policies())

    def exit_code(self, threshold: str | None = None) -> int:
        if self.saw_nothing or self.incomplete or self.nothing_parsed:
            return EXIT_USAGE
        return EXIT_FINDINGS if self.failing(threshold) else EXIT_OK

    def verdict(self) -> str:
        """The gate's verdict in one line, as the text report ends and as CI logs show it."""
        level = self.settings.fail_on
        if self.saw_nothing:
            return "nothing could be audited: no APIM service, account or assignment was read"
        if self.nothing_parsed:
            return f"nothing could be audited: no file could be parsed ({', '.join(self.unparsed_statements)})"
        if self.exit_code() == EXIT_USAGE:
            broken = [c.rule.id for c in self.crashed] + list(self.unloaded)
            return f"audit incomplete (exit {EXIT_USAGE}): check(s) {', '.join(broken)} did not run to the end"
        if self.exit_code():
            return f"gate FAILED: {len(self.failing())} finding(s) at or above '{level}'"
        return f"gate passed: nothing at or above '{level}'"

    def summary_line(self) -> str:
        """Counts by severity, suppressed and baseline, then the verdict and the exit code."""
        counts = {s: sum(1 for f in self.active if f.severity.value == s) for s in ("high", "medium", "low")}
        quiet = sum(1 for f in self.findings if not f.active)
        return (f"{len(self.active)} finding(s) ({counts['high']} high, {counts['medium']} medium, {counts['low']} low"
                f"{f', {quiet} suppressed or in the baseline' if quiet else ''}) · {self.verdict()} "
                f"(exit {self.exit_code()})")


@dataclass(frozen=True)
class CrashedCheck:
    """A check that raised: its rule was not evaluated, so the audit is incomplete (exit 2), not a finding."""

    rule: Rule
    error: str  # one line, redacted: "KeyError: 'x'"


@dataclass(frozen=True)
class InlineSuppression:
    """`<!-- aoai-audit: ignore RULE reason -->` in the policy of `resource`: covers that resource and its
    operations, nothing else in the file that holds it."""

    resource: str
    rule_ids: tuple[str, ...]
    reason: str
    where: str  # path:line of the policy (or its resource id)
    estate: str = ""  # the file-based estate that holds the policy (estate_identity.py): covers nothing in another


def _policy_place(origin, line: int | None) -> str:
    """Where the comment is: its own line in a policy file, the policy's line in a template or plan."""
    if origin.path:
        return f"{origin.path}:{origin.line or line}" if (origin.line or line) else origin.path
    return origin.resource_id or origin.scope or "?"


def inline_suppressions(ctx: AuditContext, known: frozenset[str], roots: list[tuple[str, str]] | None = None
                        ) -> tuple[list[InlineSuppression], list[str]]:
    """The inline suppressions that apply, and a warning for each that does not (no reason, unknown rule id)."""
    found, warnings = [], []
    for resource, policy in ctx.policies():
        doc = policy.document
        if doc is None or not doc.suppressions:
            continue
        for s in doc.suppressions:
            where = _policy_place(policy.origin, s.line)
            unknown = [r for r in s.rule_ids if r not in known]
            if unknown:
                warnings.append(f"inline suppression at {where} names unknown rule id(s) {', '.join(unknown)}; "
                                "they are ignored (see `aoai-audit rules`)")
            rules = tuple(r for r in s.rule_ids if r in known)
            if not rules:
                continue
            if not s.reason.strip():
                warnings.append(f"inline suppression of {', '.join(rules)} at {where} gives no reason, so it is not "
                                f"applied; write <!-- aoai-audit: ignore {rules[0]} why it is acceptable -->")
                continue
            found.append(InlineSuppression(resource, rules, s.reason.strip(), where,
                                           estate_of_path(policy.origin.path, roots or [])))
    return found, warnings


def _owner(resource: str) -> str:
    """The resource whose policy can suppress a finding on `resource`: itself, or the API of an operation."""
    head, sep, _tail = resource.rpartition("/operations/")
    return head if sep and "/" not in _tail else resource


_GLOB = re.compile(r"[*?\[]")


def apply_suppressions(
    findings: list[Finding], ctx: AuditContext, baseline: frozenset[str], known: frozenset[str] = frozenset(),
    roots: list[tuple[str, str]] | None = None,
) -> tuple[list[Finding], list[str]]:
    """Mark what suppressions and the baseline hide. A finding that says part of the estate was not audited
    is hidden only by a config suppression naming its rule and its exact resource (with a reason). An inline
    suppression covers its own estate only (`roots`: estate_identity.estate_roots)."""
    roots = roots or []
    inline, warnings = inline_suppressions(ctx, known or frozenset(f.rule_id for f in findings), roots)
    by_resource: dict[str, list[InlineSuppression]] = {}
    for s in inline:
        by_resource.setdefault(s.resource, []).append(s)
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
        reason = None
        if not f.not_audited:
            owners = {f.resource, _owner(f.resource)}
            estate = estate_of(f, roots)
            for s in (s for owner in sorted(owners) for s in by_resource.get(owner, ())):
                if f.rule_id in s.rule_ids and s.estate == estate:
                    reason = f"inline at {s.where}: {s.reason}"
                    break
        if reason is None:
            for rule in live_rules:
                if f.not_audited and (rule.rule != f.rule_id or _GLOB.search(rule.resource)
                                      or rule.resource != f.resource):
                    continue
                if rule.rule in ("*", f.rule_id) and fnmatch.fnmatchcase(f.resource, rule.resource):
                    origin = f" {rule.origin}" if rule.origin else ""
                    reason = f"config{origin}: {rule.reason}" + (f" (until {rule.expires})" if rule.expires else "")
                    break
        in_baseline = f.fingerprint in baseline and not f.not_audited
        out.append(replace(f, suppressed_by=reason, in_baseline=in_baseline))
    return out, warnings


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return redact(f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__)


def with_live_usage(estate: Estate, settings: Settings, live_usage: LiveUsage) -> Estate:
    """The estate with its usage read live, for the LLM APIs its context resolves (what `collect` saves)."""
    return live_usage(estate, usage_scope(build_context(estate, settings)))


def prepare(estate: Estate, settings: Settings, live_usage: LiveUsage | None = None) -> AuditContext:
    """What the checks receive: the context, built once, then the usage phase, run once on what it resolved."""
    ctx = build_context(estate, settings)
    scope = usage_scope(ctx)
    if live_usage is not None:
        estate = live_usage(estate, scope)
    return replace(ctx, estate=estate, usage=run_usage(estate, scope, settings.prices, settings.cost_centres))


def run_audit(
    estate: Estate,
    registry: Registry,
    settings: Settings,
    baseline: frozenset[str] = frozenset(),
    live_usage: LiveUsage | None = None,
) -> AuditResult:
    """`live_usage`: read the window's usage live once the context says which APIs to query (a live scan)."""
    if settings.reader_principal:
        estate = replace(estate, reader_principal=settings.reader_principal)
    estate, _renamed = adopt_usage_service_name(estate)  # a folder's name never decides what usage matches
    ctx = prepare(estate, settings, live_usage)
    estate = ctx.estate
    reached = frozenset(a for _api, accounts in ctx.attribution.api_reach for a in accounts)
    usage_warnings = unmatched_names(estate, reached) if ctx.usage is not None else []
    findings: list[Finding] = []
    not_evaluated = []
    partly: list[NotEvaluated] = []
    crashed: list[CrashedCheck] = []
    selected = []
    carries = carried(estate, settings)
    for check in registry.checks:
        rule = check.rule
        if not settings.selects(rule.id) and not rule.not_audited:  # what could not be read always fails the gate
            continue
        selected.append(rule)
        missing = sorted(rule.requires - carries)
        if rule.parts and not missing:
            unjudged = [p for p in rule.parts if not p.requires <= carries]
            if len(unjudged) == len(rule.parts):
                missing = sorted(set().union(*(p.requires - carries for p in unjudged)))
            elif unjudged:
                partly.append(NotEvaluated(rule, "; ".join(
                    f"{p.what} not judged (needs {', '.join(sorted(p.requires - carries))})" for p in unjudged)))
        if missing == [CARRIES_ESTATE]:
            not_evaluated.append(NotEvaluated(rule, STATEMENT_LEVEL))
            continue
        if missing:
            hints = sorted({_hint(m, estate) for m in missing if m in INPUT_HINTS})
            inputs = inputs_named((src.kind for src in estate.sources), estate.usage is not None)
            reason = f"needs {', '.join(missing)}; {not_carried_by(inputs)} it"
            not_evaluated.append(NotEvaluated(rule, reason + (f" (give {'; '.join(hints)})" if hints else "")))
            continue
        try:
            for finding in check.run(ctx):
                findings.append(finding)
        except Exception as exc:  # the rule was not evaluated: exit 2 and say so, never a finding of the rule
            log.debug("check %s crashed", rule.id, exc_info=True)
            crashed.append(CrashedCheck(rule, _one_line(exc)))
    forget_walks()
    project_root = find_project_root(estate.root)
    gaps = frozenset(r.id for r in registry.rules if r.not_audited)
    findings = [replace(f, not_audited=True) if f.rule_id in gaps and not f.not_audited else f for f in findings]
    roots = estate_roots(estate.sources, project_root, estate.services)
    findings = [f.with_fingerprint(project_root, estate_of(f, roots)) for f in findings]
    findings = list({f.fingerprint: f for f in findings}.values())
    known = frozenset(r.id for r in registry.rules) | frozenset(registry.failed)
    findings, warnings = apply_suppressions(findings, ctx, baseline, known, roots)
    warnings += [f"{r.id} cannot be left out by --only, --skip or a config `skip`: what could not be read fails "
                 "the gate whatever is selected" for r in registry.rules if r.not_audited and r.id in settings.skip]
    findings = price_findings(findings, ctx, registry)
    findings.sort(key=rank_key)
    return AuditResult(
        ctx=ctx,
        findings=tuple(findings),
        rules=tuple(selected),
        not_evaluated=tuple(not_evaluated),
        partly_evaluated=tuple(partly),
        warnings=tuple(warnings) + tuple(usage_warnings) + registry.errors,
        unloaded=tuple(r for r in registry.failed if settings.selects(r)),
        project_root=project_root,
        crashed=tuple(crashed),
    )
