"""The attribution chain of each LLM API, link by link, as the HTML report draws it: each link intact, broken (an
active finding of a rule that declares that link, `Rule.chain_link`) or unknown (its rules were not evaluated); and
the per-API matrix of findings per rule. Read from the JSON result, like the rest of the page."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..rules import CHAIN_LINKS, Rule


@dataclass(frozen=True)
class Link:
    key: str
    label: str
    status: str  # intact, broken, unknown
    why: str


_API_RESOURCE = re.compile(r"^(service/[^/]+(?:/workspaces/[^/]+)?/apis/[^/]+)")


def _rule_counts(doc: dict[str, Any]) -> dict[str, Counter[str]]:
    """Active findings per API resource and per service resource, rule id → count: one pass over the findings,
    so the per-API tables cost APIs × rules, not APIs × findings."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for f in doc["findings"]:
        if f["suppressed_by"]:
            continue
        r = f["resource"]
        m = _API_RESOURCE.match(r)
        if m:
            counts[m.group(1)][f["rule_id"]] += 1
        elif r.startswith("service/") and r.count("/") == 1:
            counts[r][f["rule_id"]] += 1
    return counts


def _usage_counts(doc: dict[str, Any], counts: dict[str, Counter[str]]) -> None:
    """KQ findings are about usage, not a resource: charge them to the APIs the usage names (the APIs that feed
    the unknown bucket, the APIs an unmapped consumer called), so the chain shows where money goes missing."""
    usage = doc.get("usage")
    if not usage:
        return
    active = {f["rule_id"] for f in doc["findings"] if not f["suppressed_by"]}
    by_name: dict[str, list[str]] = defaultdict(list)
    for api in doc["apis"]:
        by_name[api["api"]].append(api["resource"])
    if "KQ001" in active:
        for source in usage["unknown"]["sources"]:
            for resource in by_name.get(source["api"], []):
                counts[resource]["KQ001"] += 1
    if "KQ002" in active:
        for consumer in usage["consumers"]:
            if consumer["cost_centre"] is None and usage["cost_centres"] is not None:
                for api in consumer["apis"]:
                    for resource in by_name.get(api, []):
                        counts[resource]["KQ002"] += 1


def _api_counts(counts: dict[str, Counter[str]], api: dict[str, Any]) -> Counter[str]:
    """Findings on the API (and its operations) plus those on its whole service."""
    return counts.get(api["resource"], Counter()) + counts.get(f"service/{api['service']}", Counter())


def chain(rules: Iterable[Rule]) -> list[tuple[str, str, tuple[str, ...]]]:
    """The links of the attribution chain, each with the rules that declare it (`Rule.chain_link`), in rule order."""
    ordered = list(rules)
    return [(key, label, tuple(r.id for r in ordered if r.chain_link == key)) for key, label in CHAIN_LINKS]


def chains(doc: dict[str, Any], rules: Iterable[Rule]) -> list[dict[str, Any]]:
    """Per LLM API: each link intact, broken (an active finding of its rules) or unknown (not evaluated)."""
    links_of = chain(rules)
    selected = {r["id"] for r in doc["rules"]}
    not_evaluated = {n["rule_id"] for n in doc["not_evaluated"]}
    counts = _rule_counts(doc)
    _usage_counts(doc, counts)
    rows = []
    for api in doc["apis"]:
        if not api["is_llm"]:
            continue
        here = _api_counts(counts, api)
        links = []
        for key, label, ids_of in links_of:
            ids = sorted(r for r in ids_of if here[r])
            evaluated = [r for r in ids_of if r in selected and r not in not_evaluated]
            if ids:
                links.append(Link(key, label, "broken", ", ".join(ids)))
            elif not evaluated:
                links.append(Link(key, label, "unknown", "not evaluated: needs data this input does not carry"))
            else:
                links.append(Link(key, label, "intact", "checked by " + ", ".join(evaluated)))
        rows.append({"api": api, "links": links, "broken": sum(link.status == "broken" for link in links)})
    return rows


def rule_matrix(doc: dict[str, Any], rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    not_evaluated = {n["rule_id"] for n in doc["not_evaluated"]}
    counts = _rule_counts(doc)
    rows = []
    for api in doc["apis"]:
        if not api["is_llm"]:
            continue
        here = _api_counts(counts, api)
        cells = ["n/a" if rule["id"] in not_evaluated else here[rule["id"]] for rule in rules]
        rows.append({"api": api, "cells": cells})
    return rows
