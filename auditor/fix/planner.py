"""Findings → repairs: one mechanical, safe change per finding (or per file, where several findings name one),
planned on the current texts. A finding this module cannot repair safely is declined with the reason.

Rules and their repairs (RULES.md): TM007 restores `<base />`; TM004 renames the legacy element; TM006 drops a
dimension only when it exactly repeats another; TM001 adds the estate's own token metric (its fragment, else its
namespace and built-in consumer dimensions) to the API's inbound policy; HD001 adds the attribution header the
estate already forwards. Never where the attribution model says one team owns the resource.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from ..analysis import LEGACY_TOKEN_METRIC, TOKEN_METRIC_TAGS
from ..engine import AuditResult
from ..findings import Finding
from ..policy.tree import PolicyNode
from ..policy.wellformed import RawXmlError, to_wellformed
from .conventions import MAX_DIMENSIONS, Conventions, fragment_include, read_conventions
from .edits import Edit, insert_first, insert_last, remove, rename
from .iac import generated_files, in_generated
from .metric_copy import SUCCESSOR, not_portable, successor_text
from .model import Declined, Identity, Option, Repair
from .ownership import owner_of
from .placement import placements
from .rawtext import RawDocument, RawElement, base_spelling, element_text

# The order repairs are planned and proven in: restoring <base /> often closes TM001 and HD001 by itself.
ORDER = ("TM007", "TM004", "TM006", "TM001", "HD001")
Raw = Callable[[str], "RawDocument | None"]


def identity(f: Finding) -> Identity:
    return (f.rule_id, f.resource, f.context, f.key)


def _spans_line(doc: RawDocument, el: RawElement, line: int | None) -> bool:
    """lxml gives an element the line its start tag ends on; a person reads the line it starts on."""
    return line is not None and doc.line_of(el.open_start) <= line <= doc.line_of(el.open_end - 1)


def find_element(doc: RawDocument, node: PolicyNode) -> RawElement | None:
    hits = [el for el in doc.root.iter() if el.name == node.tag and _spans_line(doc, el, node.line)]
    return hits[0] if len(hits) == 1 else None


class Planner:
    def __init__(self, result: AuditResult, raw: Raw):
        self.result = result
        self.ctx = result.ctx
        self.raw = raw
        self.declined: list[Declined] = []
        self.generated = generated_files(result)  # inputs whose findings get statements (iac.py), never an edit
        self._texts = [p.text for _r, p in self.ctx.policies()]
        self._conventions: dict[tuple[int, str | None], Conventions] = {}

    def decline(self, f: Finding, reason: str) -> None:
        self.declined.append(Declined(f.rule_id, f.resource, reason))

    def plan(self, rule_id: str) -> list[Repair]:
        # a finding in a generated template (ARM, Terraform JSON) gets a statement to add by hand (iac.py), no edit
        findings = [f for f in self.result.findings if f.rule_id == rule_id and not in_generated(f, self.generated)]
        return getattr(self, f"_{rule_id.lower()}")(findings) if findings else []

    def _doc(self, f: Finding) -> tuple[str, RawDocument] | None:
        path = f.location.path
        doc = self.raw(path) if path else None
        if doc is None:
            self.decline(f, "its policy file could not be read as text (not UTF-8, or not well nested)" if path
                         else "no policy file to edit (the finding points at no file)")
            return None
        return path, doc  # type: ignore[return-value]

    def _by_file(self, findings: list[Finding]) -> dict[str, list[Finding]]:
        """Findings grouped by the policy file they point at; one that points at no file is declined."""
        by_path: dict[str, list[Finding]] = {}
        for f in findings:
            if f.location.path:
                by_path.setdefault(f.location.path, []).append(f)
            else:
                self.decline(f, "no policy file to edit")
        return by_path

    # ------------------------------------------------------------------------------------------ TM007
    def _tm007(self, findings: list[Finding]) -> list[Repair]:
        repairs = []
        for path, group in self._by_file(findings).items():
            found = self._doc(group[0])
            if found is None:
                continue
            _, doc = found
            inbound = doc.root.child("inbound")
            if doc.root.name != "policies" or inbound is None:
                for f in group:
                    self.decline(f, f"{path} has no <inbound> section to put <base /> in")
                continue
            base = base_spelling(self._texts)
            option = Option(f"restore {base} as the first statement of <inbound>", (insert_first(doc, path, inbound, base),))
            repairs.append(Repair("TM007", group[0].resource, path, tuple(identity(f) for f in group), (option,),
                                  doc.line_of(inbound.open_start)))
        return repairs

    # ------------------------------------------------------------------------------------------ TM004
    def _tm004(self, findings: list[Finding]) -> list[Repair]:
        repairs = []
        for path, group in self._by_file(findings).items():
            found = self._doc(group[0])
            if found is None:
                continue
            _, doc = found
            legacy = [el for el in doc.root.iter() if el.name == LEGACY_TOKEN_METRIC]
            edits = tuple(e for el in legacy for e in rename(path, doc, el, "llm-emit-token-metric"))
            if not edits:
                for f in group:
                    self.decline(f, f"no <{LEGACY_TOKEN_METRIC}> found in the text of {path}")
                continue
            option = Option(f"rename <{LEGACY_TOKEN_METRIC}> to <llm-emit-token-metric> ({len(legacy)}×)", edits)
            repairs.append(Repair("TM004", group[0].resource, path, tuple(identity(f) for f in group), (option,),
                                  doc.line_of(legacy[0].open_start)))
        return repairs

    # ------------------------------------------------------------------------------------------ TM006
    def _tm006(self, findings: list[Finding]) -> list[Repair]:
        repairs, done = [], set()
        for f in findings:
            found = self._doc(f)
            if found is None:
                continue
            path, doc = found
            metrics = [el for el in doc.root.iter() if el.name in TOKEN_METRIC_TAGS
                       and _spans_line(doc, el, f.location.line)]
            if len(metrics) != 1:
                self.decline(f, "the metric the finding names could not be told apart in the file's text")
                continue
            metric = metrics[0]
            key = (path, metric.open_start)
            if key in done:
                continue
            dims = [c for c in metric.children if c.name == "dimension"]
            seen, extra = set(), []
            for d in dims:
                canon = _canonical(element_text(doc, d))
                if canon is not None and canon in seen:
                    extra.append(d)
                elif canon is not None:
                    seen.add(canon)
            if not extra or len(dims) - len(extra) > MAX_DIMENSIONS:
                self.decline(f, "removing only exact duplicate dimensions would not bring it to "
                             f"{MAX_DIMENSIONS}; which dimensions to drop is a decision for its owner")
                continue
            done.add(key)
            option = Option(f"remove {len(extra)} dimension(s) that exactly repeat another",
                            tuple(remove(path, doc, d) for d in extra))
            repairs.append(Repair("TM006", f.resource, path, (identity(f),), (option,), doc.line_of(metric.open_start)))
        return repairs

    # ------------------------------------------------------------------------------------ TM001 / HD001
    def _conventions_for(self, view) -> Conventions:
        key = (id(view.service), view.api.workspace)
        if key not in self._conventions:
            self._conventions[key] = read_conventions(self.ctx, view.service, view.api.workspace)
        return self._conventions[key]

    def _gateway_view(self, f: Finding):
        """The LLM API a whole-API finding is about, unless one team owns its spend."""
        view = next((v for v in self.ctx.llm_apis
                     if f.resource == v.resource or f.resource.startswith(v.resource + "/operations/")), None)
        if view is None:
            self.decline(f, "not an LLM API of the estate")
            return None
        why = owner_of(self.ctx, view)
        if why:
            self.decline(f, f"left alone: {why}")
            return None
        if f.resource != view.resource:
            self.decline(f, "only some operations lack it: an operation that drops <base /> is repaired by TM007; "
                         "otherwise add it to the operation's policy by hand")
            return None
        return view

    def _api_target(self, f: Finding):
        """The LLM API a finding is about and its own policy (path, doc)."""
        view = self._gateway_view(f)
        if view is None:
            return None
        policy = view.api.policy
        if policy is None or not policy.origin.path:
            self.decline(f, "the API has no policy file of its own to add the statement to")
            return None
        path = policy.origin.path
        doc = self.raw(path)
        if doc is None or doc.root.name != "policies":
            self.decline(f, f"{path} could not be read as a policy text")
            return None
        return view, path, doc

    def _insert(self, doc: RawDocument, path: str, statement: str) -> Edit:
        """`statement` last in the policy's inbound section (an inbound section with `<base />` when it has none)."""
        inbound = doc.root.child("inbound")
        if inbound is None:
            base = base_spelling(self._texts)
            return insert_first(doc, path, doc.root, f"<inbound>\n\t{base}\n\t" + statement.replace("\n", "\n\t")
                                + "\n</inbound>")
        return insert_last(doc, path, inbound, statement)

    def _add_statement(self, f: Finding, view, path: str, doc: RawDocument, statements: list[tuple[str, str]]):
        inbound = doc.root.child("inbound")
        options = [Option(summary, (self._insert(doc, path, statement),)) for summary, statement in statements]
        line = doc.line_of(inbound.open_start) if inbound is not None else None
        return Repair(f.rule_id, view.resource, path, (identity(f),), tuple(options), line)

    def _tm001(self, findings: list[Finding]) -> list[Repair]:
        repairs = []
        for f in findings:
            view = self._gateway_view(f)
            if view is None:
                continue
            conv = self._conventions_for(view)
            if not conv.attributes_at_gateway:
                self.decline(f, "the service emits no token metric with a consumer dimension anywhere: it does not "
                             "attribute at the gateway, so there is no metric of its own to copy")
                continue
            statements = [(f"include the estate's fragment '{name}'", fragment_include(name))
                          for name in conv.metric_fragments]
            own = conv.metric_statement()
            if own:
                statements.append((f"add the estate's token metric (namespace '{conv.namespace}', dimensions "
                                   f"{', '.join(conv.builtin_dimensions[:MAX_DIMENSIONS])})", own))
            unfit = self._verbatim(conv, statements)
            if not statements:
                self.decline(f, "the estate's token metrics use no fragment, no built-in consumer dimension and no "
                             "statement whose values every call has, to copy" + (f" ({unfit[0]})" if unfit else ""))
                continue
            found, why = placements(self.ctx, view, f, conv.metric_scope, self.raw)
            if not found:
                self.decline(f, "no policy takes the metric without metering some calls twice: " + "; ".join(why))
                continue
            options = [Option(f"{summary} in {place.label()}",
                              tuple(self._insert(site.doc, site.path, statement) for site in place.sites
                                    if site.doc is not None))
                       for place in found for summary, statement in statements]
            first = found[0].sites[0]
            inbound = first.doc.root.child("inbound") if first.doc is not None else None
            line = first.doc.line_of(inbound.open_start) if first.doc is not None and inbound is not None else None
            repairs.append(Repair("TM001", view.resource, first.path, (identity(f),), tuple(options), line))
        return repairs

    def _verbatim(self, conv: Conventions, statements: list[tuple[str, str]]) -> list[str]:
        """Add the estate's own metric statements, word for word (metric_copy.py), to `statements`; returns why
        the others cannot be copied."""
        unfit = []
        for node in conv.metric_copies:
            why = not_portable(node)
            copied = self._copy(node) if why is None else None
            if copied is None:
                unfit.append(f"{node.origin.label()}: {why or 'its text could not be told apart in its file'}")
                continue
            statements.append((f"copy the estate's token metric word for word from {node.origin.label()}", copied))
            renamed = successor_text(copied)
            if renamed:
                statements.append((f"copy the estate's token metric from {node.origin.label()}, its legacy name "
                                   f"renamed to <{SUCCESSOR}> (TM004)", renamed))
        return unfit

    def _hd001(self, findings: list[Finding]) -> list[Repair]:
        repairs = []
        for f in findings:
            target = self._api_target(f)
            if target is None:
                continue
            view, path, doc = target
            conv = self._conventions_for(view)
            statements = [(f"include the estate's fragment '{name}'", fragment_include(name))
                          for name in conv.header_fragments]
            node = conv.header_statement
            copied = self._copy(node) if node is not None else None
            if copied:
                statements.append((f"copy the estate's <set-header name=\"{node.get('name')}\"> "  # type: ignore[union-attr]
                                   f"from {node.origin.label()}", copied))  # type: ignore[union-attr]
            if not statements:
                self.decline(f, "the estate forwards no attribution header derived from the caller's identity "
                             "to copy; see the rule's fix")
                continue
            repairs.append(self._add_statement(f, view, path, doc, statements))
        return repairs

    def _copy(self, node: PolicyNode) -> str | None:
        """A statement's raw text from its own file, its lines re-based to depth (one tab per step)."""
        doc = self.raw(node.origin.path) if node.origin.path else None
        el = find_element(doc, node) if doc is not None else None
        if doc is None or el is None:
            return None
        base, unit = doc.indent_of(el), doc.unit()
        lines = element_text(doc, el).replace("\r\n", "\n").split("\n")
        if base is None and len(lines) > 1:
            return None
        out = [lines[0]]
        for line in lines[1:]:
            rest = line[len(base):] if base and line.startswith(base) else line.lstrip() if base else line
            depth = 0
            while unit and rest.startswith(unit):
                rest, depth = rest[len(unit):], depth + 1
            out.append("\t" * depth + rest)
        return "\n".join(out)


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _canonical(text: str) -> bytes | None:
    """An element's canonical XML (attribute order and quoting aside), or None when it cannot be read alone."""
    try:
        return etree.tostring(etree.fromstring(to_wellformed(text).encode(), _PARSER), method="c14n")
    except (etree.XMLSyntaxError, RawXmlError, ValueError):
        return None


__all__ = ["ORDER", "Edit", "Planner", "identity"]
