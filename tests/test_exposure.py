"""Each finding priced once in the engine: the unattributed part for attribution gaps, the whole for logging gaps."""

from __future__ import annotations

import json
from decimal import Decimal

from aoai_audit.exposure import scope
from aoai_audit.report.json_report import render_json
from aoai_audit.report.sarif import render_sarif
from aoai_audit.report.text import render_text
from aoai_audit.usage.ledger import ledger_rows, total
from aoai_audit.usage.tally import UNKNOWN, UNMETERED, cents
from conftest import EXAMPLE, audit
from test_usage import example_result


def _by(result, rule_id, resource_end):
    return next(f for f in result.findings if f.rule_id == rule_id and f.resource.endswith(resource_end))


def test_ledger_lines_add_up_to_the_platform_total(registry):
    result = example_result(registry)
    lines = result.ctx.usage.ledger
    tokens, money = total(lines)
    usage = result.ctx.usage
    # exact fractions where the usage layer split rows across a served mix: equal to well below a token / a cent
    assert abs(tokens - usage.platform.tokens) < 1 and abs(money - usage.platform.money) < Decimal("0.000001")
    unknown = [x for x in lines if x.bucket == UNKNOWN]
    assert abs(sum(x.tokens for x in unknown) - usage.unknown.tokens) < 1
    assert abs(sum(x.money or 0 for x in unknown) - usage.unknown.money) < Decimal("0.000001")
    assert abs(sum(x.tokens for x in lines if x.bucket == UNMETERED) - usage.unmetered_tokens) < 1


def test_attribution_gaps_carry_their_apis_unattributed_money_and_logging_gaps_the_whole(registry):
    result = example_result(registry)
    lines = result.ctx.usage.ledger
    rows = ledger_rows(result.ctx.usage)  # whole cents: what the tables and the FOCUS file show

    def cents_of(chosen):
        return sum((r.money for r in chosen), Decimal(0))

    legacy = [x for x in lines if x.bucket == UNKNOWN and x.api == "assistants-legacy"]
    legacy_rows = [r for r in rows if r.bucket == UNKNOWN and r.api == "assistants-legacy"]
    hd002 = _by(result, "HD002", "apis/assistants-legacy")
    # the finding's cents are its rows' cents, and those are the exact lines' money to within a cent
    assert legacy and Decimal(str(hd002.money.amount)) == cents_of(legacy_rows) > 0
    assert abs(cents_of(legacy_rows) - sum(x.money or 0 for x in legacy)) < Decimal("0.01")
    assert hd002.tokens == round(sum(x.tokens for x in legacy)) and "went to no team" in hd002.money_basis
    # an operation-level finding is priced by its API's unknown bucket
    tm007 = _by(result, "TM007", "operations/Embeddings_Create")
    chat = [x for x in lines if x.bucket == UNKNOWN and x.api == "chat-completions"]
    assert tm007.tokens == round(sum(x.tokens for x in chat))
    assert Decimal(str(tm007.money.amount)) == cents_of(r for r in rows if r.bucket == UNKNOWN
                                                          and r.api == "chat-completions")
    # a service-wide logging gap lost nothing by itself in the window: 0, with what flows through its APIs
    # said apart as "at risk" (never ranked); that is the gateway's figure as the report states it (the sum of
    # the team and unknown rows), which can never exceed the platform's
    tm008 = _by(result, "TM008", "service/contoso-apim")
    usage = result.ctx.usage
    stated = json.loads(render_json(result))["usage"]
    assert tm008.tokens == 0 and tm008.money is not None and tm008.money.amount == 0
    assert tm008.at_risk_tokens == usage.gateway.tokens == stated["gateway"]["tokens"]
    assert Decimal(str(tm008.at_risk.amount)) == Decimal(str(stated["gateway"]["money"])) \
        <= Decimal(str(stated["platform"]["money"]))
    assert "no price" in tm008.at_risk_basis  # the unpriced embeddings are said, not priced at zero
    assert all(Decimal(str(f.money.amount)) <= cents(usage.platform.money) for f in result.findings if f.money)
    assert all(Decimal(str(f.at_risk.amount)) <= cents(usage.platform.money) for f in result.findings if f.at_risk)
    # the rule says which figure applies, in its own metadata
    assert registry.rule("TM008").stake.loss == "none" and registry.rule("TM001").stake.loss == "unknown"
    # gaps that lose the same tokens say so (one overlap key), so no list adds them up
    same = {f.overlap for f in result.findings if f.resource.startswith("service/contoso-apim/apis/chat-completions")
            and f.money and f.money.amount > 0}
    assert len(same) == 1
    # an API the gateway never metered: no figure, and the reason, never a zero
    tm001 = _by(result, "TM001", "apis/embeddings-search")
    assert tm001.money is None and tm001.tokens is None and "no usage was metered" in tm001.money_basis
    # the check's own figure stays (the unknown bucket as a whole)
    kq001 = _by(result, "KQ001", "usage/unknown")
    assert Decimal(str(kq001.money.amount)) == cents(result.ctx.usage.unknown.money)


def test_findings_rank_by_money_then_severity(registry):
    findings = example_result(registry).findings
    amounts = [Decimal(str(f.money.amount)) if f.money else Decimal(-1) for f in findings]
    assert amounts == sorted(amounts, reverse=True)
    ties = [f.severity.rank for f in findings if f.money and f.money.amount == findings[0].money.amount]
    assert ties == sorted(ties, reverse=True)


def test_without_usage_findings_rank_by_severity_and_the_report_says_how_to_add_usage(registry):
    result = audit(EXAMPLE, registry)
    assert all(f.money is None and not f.money_basis for f in result.findings)
    ranks = [f.severity.rank for f in result.findings]
    assert ranks == sorted(ranks, reverse=True)
    assert "--usage FILE" in render_text(result, registry, width=200)


def test_every_output_carries_the_same_figure(registry):
    result = example_result(registry)
    hd002 = _by(result, "HD002", "apis/assistants-legacy")
    doc = json.loads(render_json(result, registry))
    row = next(f for f in doc["findings"] if f["fingerprint"] == hd002.fingerprint)
    assert row["money"] == {"amount": float(hd002.money.amount), "currency": "USD"} and row["tokens"] == hd002.tokens
    sarif = json.loads(render_sarif(result, registry))["runs"][0]["results"]
    props = next(r["properties"] for r in sarif if r["partialFingerprints"]["aoaiAuditFinding/v1"] == hd002.fingerprint)
    assert props["money"] == row["money"] and props["tokens"] == row["tokens"] and props["moneyBasis"]
    assert f"USD {hd002.money.amount:,.2f} · {hd002.tokens:,} tokens lost" in render_text(result, registry, width=300)


def test_scope_reads_api_service_and_account_resources():
    assert scope("service/s/workspaces/w/apis/a/operations/o") == ("s", "a", None)
    assert scope("service/s") == ("s", None, None)
    rid = "/subscriptions/x/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/acc-1"
    assert scope(rid) == ("", None, "acc-1")
    assert scope("usage/unknown") is None and scope("estate") is None


def test_usage_findings_quote_the_cents_the_tables_show(registry):
    """KQ001 and KQ002 price a whole bucket or a team; their cents are the rows' cents the JSON, the HTML table
    and the FOCUS file show, never the bucket rounded on its own (one cent apart on split rows)."""
    result = example_result(registry)
    stated = json.loads(render_json(result))["usage"]
    kq001 = _by(result, "KQ001", "usage/unknown")
    assert Decimal(str(kq001.money.amount)) == Decimal(str(stated["unknown"]["money"])) > 0
    assert f"{kq001.money.amount:,.2f}" in kq001.message
    team = {(c["dimension"], c["consumer"]): c for c in stated["consumers"]}
    kq002 = [f for f in result.findings if f.rule_id == "KQ002"]
    assert kq002
    for f in kq002:
        dimension, value = f.resource.split("/")[2:4]
        assert Decimal(str(f.money.amount)) == Decimal(str(team[(dimension, value)]["money"]))
        assert f"{f.money.amount:,.2f}" in f.message
