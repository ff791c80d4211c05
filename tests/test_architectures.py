"""Issue 23: every attribution architecture judged on its own terms (tests/fixtures/architectures).

Each estate is read as `az bicep build` writes it, with a usage file of known truth, through the command line.
The figures below are computed by hand from the usage files and the shipped list prices per 1M tokens
(global): gpt-4o-mini 2024-07-18 0.15 in / 0.60 out; gpt-4o 2024-11-20 2.50 in / 10.00 out. Each README beside
the estate shows the arithmetic. Every report must name the architecture, fire what it must, stay quiet where the
rule does not apply, and put the money in the right bucket; the buckets add up to the platform total it states.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from aoai_audit.cli import main
from conftest import FIXTURES

ARCH = FIXTURES / "architectures"
M = 1_000_000
AT, BY, SHARED, NONE = ("attributed at the gateway", "attributed by resource",
                        "not attributable: shared and unmetered", "not attributable: no owner")
UNUSED = "unused PTU capacity (reserved hours no team used)"
Z = (0, "0.00")

# situation → architecture, findings that fire, findings that must not, money per bucket (tokens, USD), platform
CASES = {
    "shared-apim-no-metric": (
        "shared APIM without a token metric", {"TM001"}, {"OW001", "OW002", "AU003"},
        # 10M in × 0.15 + 2M out × 0.60 = 1.50 + 1.20, all of it passed the gateway unmetered
        {AT: Z, BY: Z, SHARED: (12 * M, "2.70"), NONE: Z}, (12 * M, "2.70")),
    "shared-apim-metric": (
        "shared APIM with a token metric", set(), {"TM001", "TM002", "OW001", "OW002", "AU003"},
        # alpha 6M×0.15 + 1M×0.60 = 1.50; beta 3M×0.15 + 0.5M×0.60 = 0.75; direct callers 1M×0.15 + 0.5M×0.60 = 0.45
        {AT: (10_500_000, "2.25"), BY: Z, SHARED: (1_500_000, "0.45"), NONE: Z}, (12 * M, "2.70")),
    "per-team-apim-shared-account": (
        "per-team APIM over a shared account", set(), {"TM001", "TM002", "OW001", "OW002", "AU003"},
        # apim-alpha 4M×0.15 + 1M×0.60 = 1.20; apim-beta 6M×0.15 + 1M×0.60 = 1.50
        {AT: Z, BY: (12 * M, "2.70"), SHARED: Z, NONE: Z}, (12 * M, "2.70")),
    "per-team-apim-and-accounts": (
        "per-team APIM and accounts", set(), {"TM001", "TM002", "HD001", "HD003", "TM008", "DG002", "DG004", "OW001",
                                              "OW002", "AU003"},
        # acct-alpha 1.20, acct-beta 1.50, each its team's by tag
        {AT: Z, BY: (12 * M, "2.70"), SHARED: Z, NONE: Z}, (12 * M, "2.70")),
    "per-team-deployments": (
        "per-team deployments", set(), {"OW001", "OW002", "AU003"},
        {AT: Z, BY: (12 * M, "2.70"), SHARED: Z, NONE: Z}, (12 * M, "2.70")),
    "per-team-accounts-tags": (
        "per-team accounts (tags) without a gateway", {"BY001"}, {"OW001", "OW002", "AU003"},
        {AT: Z, BY: (12 * M, "2.70"), SHARED: Z, NONE: Z}, (12 * M, "2.70")),
    "foundry-projects": (
        "Foundry projects", {"OW002"}, {"OW001", "AU003"},
        # gpt-4o 2M×2.50 + 0.5M×10.00 = 5.00 + 5.00
        {AT: Z, BY: Z, SHARED: (2_500_000, "10.00"), NONE: Z}, (2_500_000, "10.00")),
    "workspaces": (
        # KQ002 stays quiet: the map names the workspaces, so the API ID values need no entry of their own
        "APIM workspaces", set(), {"TM001", "TM002", "OW001", "OW002", "AU003", "KQ002"},
        {AT: Z, BY: (12 * M, "2.70"), SHARED: Z, NONE: Z}, (12 * M, "2.70")),
    "ptu-shared-metered": (
        "shared APIM with a token metric", {"KQ003"}, {"KQ004", "TM001", "TM002", "OW001", "OW002", "AU003"},
        # 5 PTU × 24 h × 2.00 = 240.00 a day, 3 days = 720.00. Day 1: alpha 3M, beta 1M of 4M → 180 + 60;
        # day 2: no token → 240 unused; day 3: alpha 1M, beta 1M, direct 0.5M of 2.5M → 96 + 96 + 48
        {AT: (6 * M, "432.00"), BY: Z, SHARED: (500_000, "48.00"), NONE: Z, UNUSED: (0, "240.00")},
        (6_500_000, "720.00")),
    "batch-beside-standard": (
        "mixed", set(), {"KQ004", "TM001", "TM002", "OW001", "OW002", "AU003"},
        # live: alpha, beta 1M×2.50 + 0.5M×10.00 = 7.50 each (mix of `chat` only);
        # research's batch jobs on `bulk` (tagged): 4M×1.25 + 2M×5.00 = 15.00 at batch rates
        {AT: (3 * M, "15.00"), BY: (6 * M, "15.00"), SHARED: Z, NONE: Z}, (9 * M, "30.00")),
    "no-owner": (
        "per-team accounts (tags) without a gateway", {"OW001"}, {"OW002", "AU003", "TM001", "BY001"},
        # acct-alpha 4M×0.15 + 1M×0.60 = 1.20 (tag); acct-orphan 6M×0.15 + 1M×0.60 = 1.50 (nobody)
        {AT: Z, BY: (5 * M, "1.20"), SHARED: Z, NONE: (7 * M, "1.50")}, (12 * M, "2.70")),
    "mixed": (
        "mixed", {"OW001", "KQ003"}, {"TM001", "TM002", "OW002", "AU003", "BY001"},
        # gamma 2M×0.15 + 1M×0.60 = 0.90, delta 2M×0.15 = 0.30; alpha's account 4M×0.15 + 1M×0.60 = 1.20;
        # acct-shared direct 1M×0.15 = 0.15; acct-orphan 2M×0.15 + 0.5M×0.60 = 0.60
        {AT: (5 * M, "1.20"), BY: (5 * M, "1.20"), SHARED: (1 * M, "0.15"), NONE: (2_500_000, "0.60")},
        (13_500_000, "3.15")),
}
PLATFORM = {name: case[4] for name, case in CASES.items()}


def scan(target: Path, *args: str, fmt: str = "json") -> tuple[int, str]:
    usage = target / "usage.csv" if target.is_dir() else target.parent / "usage.csv"
    template = target / "main.json" if target.is_dir() else target
    extra = ["--cost-centres", str(template.parent / "cost-centres.yaml")] if (template.parent / "cost-centres.yaml").is_file() else []
    result = CliRunner().invoke(main, ["scan", str(template), "--usage", str(usage), *extra, *args, "--format", fmt])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, result.stdout


@pytest.mark.parametrize("name", sorted(CASES))
def test_architecture_findings_and_money(name):
    architecture, fire, quiet, buckets, _platform = CASES[name]
    _code, out = scan(ARCH / name)
    doc = json.loads(out)
    assert doc["attribution"]["architecture"] == architecture
    fired = {f["rule_id"] for f in doc["findings"]}
    assert fire <= fired, f"{name}: expected {fire - fired} to fire"
    assert not fired & quiet, f"{name}: {fired & quiet} must not fire"
    money = doc["attribution"]["money"]
    got = {b["bucket"]: (b["tokens"], f"{b['money']:.2f}") for b in money["buckets"]}
    assert got == buckets
    # the buckets add up to the platform total the same report states, in tokens and to the cent
    tokens, usd = PLATFORM[name]
    assert (doc["usage"]["platform"]["tokens"], f"{doc['usage']['platform']['money']:.2f}") == (tokens, usd)
    assert sum(b["tokens"] for b in money["buckets"]) == tokens
    assert sum(Decimal(b["money_exact"]) for b in money["buckets"]).quantize(Decimal("0.01")) == Decimal(usd)
    no_team = buckets[SHARED][0] + buckets[NONE][0]
    assert money["went_to_no_team"]["tokens"] == no_team
    assert money["went_to_no_team"]["money"] == float(Decimal(buckets[SHARED][1]) + Decimal(buckets[NONE][1]))


@pytest.mark.parametrize("fmt", ["text", "md", "html", "sarif", "junit"])
@pytest.mark.parametrize("name", ["shared-apim-no-metric", "per-team-deployments"])
def test_every_format_names_the_architecture(name, fmt):
    architecture = CASES[name][0]
    _code, out = scan(ARCH / name, fmt=fmt)
    flat = " ".join(out.split())
    assert architecture in flat
    if fmt == "sarif":
        props = json.loads(out)["runs"][0]["properties"]["attribution"]
        assert props["architecture"] == architecture and props["moneyByPath"]["total"]["money"] == 2.70


def test_gateway_traffic_without_a_metric_is_said_to_have_passed_it_and_carries_money():
    """The most common starting point: the headline says all of it went to no team, and TM001 carries it."""
    _code, out = scan(ARCH / "shared-apim-no-metric", fmt="text")
    flat = " ".join(out.split())
    assert "100.0% of platform tokens (12,000,000 tokens, USD 2.70) went to no team" in flat
    assert "not seen by the gateway" not in flat
    doc = json.loads(scan(ARCH / "shared-apim-no-metric")[1])
    (tm001,) = [f for f in doc["findings"] if f["rule_id"] == "TM001"]
    assert tm001["money"] == {"amount": 2.70, "currency": "USD"} and tm001["tokens"] == 12 * M
    assert "passed the gateway unmetered" in tm001["money_basis"]


def test_foundry_projects_put_the_shared_deployment_cost_at_stake():
    doc = json.loads(scan(ARCH / "foundry-projects")[1])
    (ow002,) = [f for f in doc["findings"] if f["rule_id"] == "OW002"]
    assert ow002["money"] == {"amount": 10.00, "currency": "USD"} and ow002["severity"] == "high"
    assert "proj-alpha" in ow002["message"] and "proj-beta" in ow002["message"]


def test_keys_without_a_gateway_are_a_risk_not_an_attribution_gap():
    doc = json.loads(scan(ARCH / "per-team-accounts-tags")[1])
    messages = [f["message"] for f in doc["findings"] if f["rule_id"] == "BY001"]
    assert len(messages) == 2
    assert all("no gateway in front" in m and "not an attribution gap" in m for m in messages)
    assert not any("attributed to no one" in m for m in messages)


def test_the_focus_export_carries_each_rows_path_and_owner():
    _code, out = scan(ARCH / "per-team-accounts-tags", fmt="focus")
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["x_AttributionPath"] for r in rows} == {BY}
    assert {r["x_CostCentre"] for r in rows} == {"alpha", "CC-2000"}
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal("2.70")


def _edit(tmp_path: Path, name: str, change) -> Path:
    target = tmp_path / name
    shutil.copytree(ARCH / name, target)
    doc = json.loads((target / "main.json").read_text())
    change(doc["resources"])
    (target / "main.json").write_text(json.dumps(doc))
    return target


def test_a_team_gateway_without_the_metric_leaves_the_shared_account_unattributable(tmp_path):
    """Per-team APIM over a shared account: when one instance emits no token metric, nothing tells the instances
    apart (OW002), and that instance's missing metric is TM001; TM002 stays satisfied by the Service ID."""
    def drop_beta_metric(res):
        res["chatbPolicy"]["properties"]["value"] = res["chatbPolicy"]["properties"]["value"].split(
            "    <llm-emit-token-metric")[0] + "  </inbound>\n</policies>"
    doc = json.loads(scan(_edit(tmp_path, "per-team-apim-shared-account", drop_beta_metric))[1])
    fired = {(f["rule_id"], f["resource"].rsplit("/", 1)[-1] if f["rule_id"] != "TM001" else f["resource"])
             for f in doc["findings"]}
    assert ("TM001", "service/apim-beta/apis/chat") in fired
    assert any(r == "OW002" for r, _ in fired) and not any(r == "TM002" for r, _ in fired)
    assert {d["path"] for d in doc["attribution"]["deployments"]} == {"shared and unmetered"}


def test_a_tag_on_a_shared_account_names_its_operator_not_its_consumers(tmp_path):
    """Tags count only where a team owns the resource: a shared gateway in front makes the tag the platform's."""
    def tag_account(res):
        res["acct"]["tags"] = {"team": "platform"}
    doc = json.loads(scan(_edit(tmp_path, "shared-apim-no-metric", tag_account))[1])
    money = {b["bucket"]: b["tokens"] for b in doc["attribution"]["money"]["buckets"]}
    assert money[SHARED] == 12 * M and money[BY] == 0
    assert "TM001" in {f["rule_id"] for f in doc["findings"]}


def test_owner_tag_names_are_configurable(tmp_path):
    config = tmp_path / "audit.yaml"
    config.write_text("owner_tags: [product-line]\n")
    doc = json.loads(scan(ARCH / "per-team-accounts-tags", "--config", str(config))[1])
    assert doc["attribution"]["architecture"] == "accounts with no owner and no gateway"
    ow001 = [f for f in doc["findings"] if f["rule_id"] == "OW001"]
    assert len(ow001) == 2 and {f["money"]["amount"] for f in ow001} == {1.20, 1.50}
    assert {b["bucket"]: b["tokens"] for b in doc["attribution"]["money"]["buckets"]}[NONE] == 12 * M


def test_the_workspaces_estate_as_an_apiops_extract_gives_the_same_verdict_and_money():
    """The APIOps extract holds no accounts: its gateway lines land by their workspace, owned through the
    cost-centre map (workspaces carry no tags), so the figures equal the ARM template's."""
    here = ARCH / "workspaces"
    result = CliRunner().invoke(main, ["scan", str(here / "apiops" / "apim-shared"), "--usage", str(here / "usage.csv"),
                                       "--cost-centres", str(here / "cost-centres.yaml"), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    architecture, _fire, quiet, buckets, _platform = CASES["workspaces"]
    assert doc["attribution"]["architecture"] == architecture
    assert not {f["rule_id"] for f in doc["findings"]} & quiet
    assert {b["bucket"]: (b["tokens"], f"{b['money']:.2f}") for b in doc["attribution"]["money"]["buckets"]} == buckets
    owners = {g["workspace"]: g["owner"] for g in doc["attribution"]["gateways"]}
    assert owners == {"ws-alpha": "CC-ALPHA", "ws-beta": "CC-BETA"}


# The closing table (tests/fixtures/architectures/README.md) is written from CASES, the figures the tests above
# assert against the audit, so the table cannot drift from what the audit produces.
README = ARCH / "README.md"
TABLE_BEGIN, TABLE_END = "<!-- table: written from tests/test_architectures.py CASES -->", "<!-- end of table -->"


def readme_table() -> str:
    head = ["| situation | architecture named | fires | must not fire | gateway | resource | shared | no owner "
            "| unused PTU | platform |", "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
    rows = [f"| {name} | {arch} | {' '.join(sorted(fire)) or '—'} | {' '.join(sorted(quiet))} | "
            + " | ".join(buckets.get(b, Z)[1] for b in (AT, BY, SHARED, NONE, UNUSED)) + f" | {platform[1]} |"
            for name, (arch, fire, quiet, buckets, platform) in CASES.items()]
    return "\n".join([TABLE_BEGIN, *head, *rows, TABLE_END])


def test_the_readme_table_is_what_the_tests_assert():
    text = README.read_text(encoding="utf-8")
    assert readme_table() in text, "the table drifted from CASES: run `python tests/test_architectures.py`"
    listed = {p.name for p in ARCH.iterdir() if (p / "main.json").is_file()}
    assert listed == set(CASES), f"situations without a row: {listed ^ set(CASES)}"



# the money statement's no-team lines where the architecture decides them (tokens, USD)
STATEMENT = {
    "shared-apim-no-metric": {"passed-gateway-unmetered": (12 * M, "2.70"), "never-reached-gateway": (0, "0.00")},
    "shared-apim-metric": {"passed-gateway-unmetered": (0, "0.00"), "never-reached-gateway": (1_500_000, "0.45")},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_money_statement_adds_up_and_splits_what_went_to_no_team_by_where_it_was_lost(name):
    doc = json.loads(scan(ARCH / name)[1])
    st, money = doc["usage"]["statement"], doc["attribution"]["money"]
    lines = st["lines"]
    unused = ["ptu-unused"] if UNUSED in CASES[name][3] else []
    assert [ln["line"] for ln in lines if ln["line"] != "team"] == [
        "unknown", "passed-gateway-unmetered", "never-reached-gateway", *unused, "over-metered"]
    total = (sum(ln["tokens"] for ln in lines), sum(Decimal(ln["money"]) for ln in lines))
    assert total == (st["total"]["tokens"], Decimal(st["total"]["money"])) == (PLATFORM[name][0], Decimal(PLATFORM[name][1]))
    # what went to no team is the same figure the money by path states: the statement only says where it was lost
    assert (st["went_to_no_team"]["tokens"], Decimal(st["went_to_no_team"]["money"])) == (
        money["went_to_no_team"]["tokens"], Decimal(money["went_to_no_team"]["money_exact"]))
    # an isolated resource's spend is its owner's line, never a line of no team
    teams = sum(ln["tokens"] for ln in lines if ln["line"] == "team")
    assert teams == CASES[name][3].get(AT, Z)[0] + CASES[name][3].get(BY, Z)[0]
    if unused:  # reserved hours nobody used: the money by path's own line, to the cent
        (ln,) = [x for x in lines if x["line"] == "ptu-unused"]
        assert (ln["tokens"], ln["money"]) == CASES[name][3][UNUSED]
    for line, (tokens, usd) in STATEMENT.get(name, {}).items():
        (ln,) = [x for x in lines if x["line"] == line]
        assert (ln["tokens"], ln["money"]) == (tokens, usd), (name, ln)


if __name__ == "__main__":  # rewrite the README's table from CASES
    text = README.read_text(encoding="utf-8")
    before, rest = text.split(TABLE_BEGIN, 1)
    README.write_text(before + readme_table() + rest.split(TABLE_END, 1)[1], encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_gap_loses_more_than_went_to_no_team(name):
    """A finding's loss is money that went to no team, so it can never exceed the not-attributable buckets; a
    bypass of an account its owner's tag pays for risks that spend but loses none of it (per-team-accounts-tags:
    BY001 lost 1.20 and 1.50 while the page said 0.00 went to no team)."""
    doc = json.loads(scan(ARCH / name)[1])
    money = doc["attribution"]["money"]
    no_team = sum(Decimal(str(b["money"])) for b in money["buckets"] if b["bucket"] in (SHARED, NONE))
    for f in doc["findings"]:
        if f.get("money") is not None:
            assert Decimal(str(f["money"]["amount"])) <= no_team, (f["rule_id"], f["resource"], no_team)
    if name == "per-team-accounts-tags":
        bypass = {f["resource"].rsplit("/", 1)[-1]: f for f in doc["findings"] if f["rule_id"] == "BY001"}
        assert set(bypass) == {"acct-alpha", "acct-beta"}
        assert [bypass[a]["money"]["amount"] for a in ("acct-alpha", "acct-beta")] == [0.0, 0.0]
        assert [bypass[a]["at_risk"]["money"] for a in ("acct-alpha", "acct-beta")] == [1.20, 1.50]  # by hand
        assert "attributed by resource" in bypass["acct-alpha"]["money_basis"]
        # no gateway at all: its usage is not "unknown", there is none to read
        assert not [n for n in doc["usage"]["notes"] if "gateway usage is unknown" in n]


def test_an_estate_with_no_gateway_is_not_told_to_give_usage_it_gave_nor_shown_a_gateway_gap():
    """per-team-accounts-tags: the usage file holds platform rows only, as an estate with no gateway has. The rules
    that need gateway rows say so (never "give --usage FILE" to a user who gave it), and the HTML shows no unknown
    bucket and no "not metered by the gateway" card where there is no gateway."""
    target = ARCH / "per-team-accounts-tags"
    doc = json.loads(scan(target)[1])
    reasons = {n["rule_id"]: n["reason"] for n in doc["not_evaluated"]}
    assert "the usage given do not carry it" in reasons["KQ001"] and "gateway rows in --usage" in reasons["KQ001"]
    assert "give --usage FILE" not in reasons["KQ001"]
    assert "platform-usage" in doc["carries"] and "usage" not in doc["carries"]
    html = scan(target, fmt="html")[1]
    assert 'data-bucket-card="unknown"' not in html and "Not metered by the gateway" not in html
    assert "Served with no gateway in front" in html
    assert "which arm input and the usage given do not carry" in html and "platform-usage, usage" not in html
