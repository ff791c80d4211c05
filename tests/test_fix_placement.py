"""Where `aoai-audit fix` puts a missing token metric (issue 27): at the scope the estate meters at (product
policies here), never where a call would be metered twice; the proof rejects a repair that meters a call twice;
ARM and Terraform inputs get the statement and the Bicep/HCL resource it goes in, and are never written.

The estate (tests/fixtures/fix/product-scope, its README says what each API must get) is also run through the
full proof of tests/test_fix.py (`git apply --check`, byte identity, second run) with every other APIOps estate."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from aoai_audit.cli import main as cli
from aoai_audit.config import Settings
from aoai_audit.engine import run_audit
from aoai_audit.fix import planner as planner_module
from aoai_audit.fix.placement import Placement, Site
from aoai_audit.fix.prove import identities, metered_twice, metric_counts
from aoai_audit.fix.run import run_fix
from aoai_audit.sources.detect import load_paths
from conftest import FIXTURES

PRODUCTS = FIXTURES / "fix" / "product-scope" / "apim-products"
IAC = FIXTURES / "fix" / "iac"
REAL_APIOPS = FIXTURES / "real" / "apiops-demo" / "apimartifacts"
FRAGMENT = '<include-fragment fragment-id="product-tokens" />'


def _copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(PRODUCTS, tmp_path / "apim-products"))


def _audit(path: Path, registry):
    return run_audit(load_paths([str(path)]), registry, Settings())


def _rel(path: str, root: Path) -> str:
    return Path(path).resolve().relative_to(root.resolve()).as_posix()


def test_metric_goes_to_the_product_policy(tmp_path: Path, registry) -> None:
    apim = _copy(tmp_path)
    before = _audit(apim, registry)
    plan = run_fix([str(apim)], registry, Settings(), rules=["TM001"])
    placed = {a.repair.target.rsplit("/", 1)[-1]: sorted(_rel(e.path, apim) for e in a.option.edits)
              for a in plan.applied}
    assert placed == {"completions": ["products/team-c/policy.xml"],  # the estate meters at product scope
                      "embeddings": ["products/team-d/policy.xml"],  # at the API it would double team-b's calls
                      "summarize": ["apis/summarize/policy.xml"]}  # team-e also holds legacy-chat, metered by its API
    for a in plan.applied:
        assert FRAGMENT in a.option.edits[0].insert, "the estate's own fragment is reused"
    vision = [d for d in plan.declined if d.resource.endswith("/vision")]
    assert len(vision) == 1 and "twice" in vision[0].reason
    assert "team-a" in vision[0].reason and "legacy-chat" in vision[0].reason
    assert not plan.after - plan.before
    closed = {res.rsplit("/", 1)[-1] for rule, res, *_ in plan.before - plan.after if rule == "TM001"}
    assert closed == {"completions", "embeddings", "summarize"}

    for path, text in plan.fixed.items():
        Path(path).write_text(text)
    after = _audit(apim, registry)
    assert not metered_twice(metric_counts(before), metric_counts(after))
    counts = metric_counts(after)
    llm = {v.resource for v in after.ctx.llm_apis}
    unmetered = {k for k, n in counts.items() if k[0] in llm and n == 0}
    assert {(res.rsplit("/", 1)[-1], p) for res, _op, p in unmetered} == {("vision", "team-e")}
    assert all(n <= 1 for n in counts.values())


def test_inline_metric_with_the_estates_namespace_and_dimensions(tmp_path: Path, registry) -> None:
    """Without a fragment to include, the product gets the estate's own statement: its namespace and its built-in
    consumer dimensions, in the file's indentation."""
    apim = _copy(tmp_path)
    shutil.rmtree(apim / "policy fragments")
    team_b = apim / "products/team-b/policy.xml"
    inline = (apim / "products/team-a/policy.xml").read_text().split("\t\t<llm-emit-token-metric")[1]
    inline = "\t\t<llm-emit-token-metric" + inline.split("</llm-emit-token-metric>")[0] + "</llm-emit-token-metric>\n"
    team_b.write_text(team_b.read_text().replace(f"\t\t{FRAGMENT}\n", inline))
    plan = run_fix([str(apim)], registry, Settings(), rules=["TM001"])
    fixed = {_rel(p, apim): t for p, t in plan.fixed.items()}
    assert ('\t\t<llm-emit-token-metric namespace="gateway-tokens">\n\t\t\t<dimension name="Subscription ID" />\n'
            '\t\t\t<dimension name="Product ID" />\n\t\t\t<dimension name="API ID" />\n\t\t</llm-emit-token-metric>\n'
            '\t</inbound>') in fixed["products/team-c/policy.xml"]
    assert not plan.after - plan.before


def test_proof_rejects_a_call_metered_twice(tmp_path: Path, registry, monkeypatch) -> None:
    """Were the placement wrong (the metric at the API of an API already metered through a product), the re-audit
    would find no new finding; the proof still refuses it because a call would be metered twice."""
    apim = _copy(tmp_path)

    def api_only(ctx, view, f, scope, raw):
        site = Site("api", view.api.name, view.api.policy.origin.path, raw(view.api.policy.origin.path))
        return [Placement("api", (site,))], []

    monkeypatch.setattr(planner_module, "placements", api_only)
    plan = run_fix([str(apim)], registry, Settings(), rules=["TM001"])
    assert {a.repair.target.rsplit("/", 1)[-1] for a in plan.applied} == {"completions", "summarize"}
    for name in ("embeddings", "vision"):
        (d,) = [d for d in plan.declined if d.resource.endswith(f"/{name}")]
        assert "not proven" in d.reason and "twice" in d.reason


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fix_cli(*args: str):
    result = CliRunner().invoke(cli, ["fix", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _statements(out: str) -> dict[str, tuple[str, str]]:
    """`# RULE resource: where` + statement lines → {rule resource: (where, statement)}."""
    found: dict[str, tuple[str, str]] = {}
    for block in out.split("\n# ")[1:]:
        head, _, body = block.partition("\n")
        key, _, where = head.partition(": ")
        found[key] = (where, body.strip())
    return found


@pytest.mark.parametrize(("name", "product_holder", "api_holder", "op_holder"), [
    ("products.arm.json",
     "Microsoft.ApiManagement/service/products/policies /subscriptions/{subscription}/resourceGroups/{resourceGroup}"
     "/providers/Microsoft.ApiManagement/service/gw-products/products/team-d/policies/policy, its `properties.value`",
     "Microsoft.ApiManagement/service/apis/policies", "Microsoft.ApiManagement/service/apis/operations/policies"),
    ("products.plan.json", "module.gateway.azurerm_api_management_product_policy.team_d, its `xml_content`",
     "module.gateway.azurerm_api_management_api_policy.summarize, its `xml_content`",
     "module.gateway.azurerm_api_management_api_operation_policy.chat, its `xml_content`"),
])
def test_iac_prints_statements_and_never_writes(tmp_path: Path, name: str, product_holder: str, api_holder: str,
                                                op_holder: str, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(IAC / name, tmp_path / name)
    sha = _sha(tmp_path / name)
    code, out, err = _fix_cli(name, "--write")
    assert code == 1, err  # statements to add by hand: a change is still needed (docs/fix.md)
    assert _sha(tmp_path / name) == sha, "the generated JSON is never written"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    got = _statements(out)
    svc = "service/gw-products/apis"
    where, statement = got[f"TM001 {svc}/embeddings"]
    assert statement == FRAGMENT and "product 'team-d'" in where and product_holder in where
    assert f"(in {name}:" in where, "the file as the user gave it, never the private copy"
    where, statement = got[f"TM001 {svc}/summarize"]
    assert statement == FRAGMENT and "api 'summarize'" in where and api_holder in where
    where, statement = got[f"TM007 {svc}/chat/operations/chat-completions"]
    assert statement == "<base />" and op_holder in where and where.startswith("first in <inbound>")
    assert got[f"TM004 {svc}/assistants"][1] == "<llm-emit-token-metric>"
    assert f"TM001 {svc}/vision" not in got and "vision not fixed" in err and "twice" in err
    assert f"TM001 {svc}/chat" not in got, "restoring <base /> (TM007) is printed instead"
    assert "aoai-audit-fix-" not in out + err


def test_iac_statements_close_the_findings_when_added(tmp_path: Path, registry, monkeypatch) -> None:
    """Put each printed TM001 statement where it says (the HCL resource's xml_content) and audit again: the
    findings close and none appears; the statements are the estate's own, in the estate's namespace."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(IAC / "products.plan.json", tmp_path / "plan.json")
    _code, out, _err = _fix_cli("plan.json")
    before = _audit(tmp_path / "plan.json", registry)
    doc = json.loads((tmp_path / "plan.json").read_text())
    resources = {r["address"]: r for r in doc["planned_values"]["root_module"]["child_modules"][0]["resources"]}
    for key, (where, statement) in _statements(out).items():
        if key.startswith("TM001"):
            address = where.split("the HCL resource ")[1].split(",")[0]
            values = resources[address]["values"]
            values["xml_content"] = values["xml_content"].replace("\t</inbound>", f"\t\t{statement}\n\t</inbound>")
    (tmp_path / "plan.json").write_text(json.dumps(doc))
    after = _audit(tmp_path / "plan.json", registry)
    gone = {res.rsplit("/", 1)[-1] for rule, res, *_ in identities(before) - identities(after) if rule == "TM001"}
    assert gone == {"completions", "embeddings", "summarize"}
    assert not identities(after) - identities(before)


def test_iac_inline_statement_names_terraform_resource(monkeypatch) -> None:
    """tests/fixtures/terraform/plan.json meters with no fragment: the statement is the estate's own metric."""
    monkeypatch.chdir(FIXTURES / "terraform")
    code, out, err = _fix_cli("plan.json")
    assert code == 1, err
    where, statement = _statements(out)["TM001 service/tf-apim/apis/embeddings"]
    assert statement == '<llm-emit-token-metric namespace="llm-usage">\n\t<dimension name="Subscription ID" />\n' \
                        "</llm-emit-token-metric>"
    assert "module.gateway.azurerm_api_management_api_policy.embeddings, its `xml_content`" in where


def test_real_extract_without_a_metric_is_left_alone(tmp_path: Path, registry, monkeypatch) -> None:
    """anotherRedbeard/apiops-demo (tests/fixtures/real/SOURCES.md): a real extractor output with an Azure OpenAI
    API and no token metric anywhere. The estate does not attribute at the gateway, so there is nothing of its
    own to copy: the fix declines, says why, and changes no byte."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REAL_APIOPS, tmp_path / "apimartifacts")
    shas = {p: _sha(p) for p in (tmp_path / "apimartifacts").rglob("*") if p.is_file()}
    audit = _audit(tmp_path / "apimartifacts", registry)
    assert [v.api.name for v in audit.ctx.llm_apis] == ["testopenai"]
    assert any(f.rule_id == "TM001" and f.resource.endswith("/testopenai") for f in audit.findings)
    code, out, err = _fix_cli("apimartifacts", "--write")
    assert (code, out) == (0, "")
    assert "TM001 on service/apimartifacts/apis/testopenai not fixed" in err
    assert "does not attribute at the gateway" in err and "0 closed, 0 new" in err
    assert {p: _sha(p) for p in shas} == shas


def test_example_with_the_readmes_usage_options(tmp_path: Path, monkeypatch) -> None:
    """`fix` takes the scan's usage options (README: --usage, --cost-centres) and audits the estate as that scan
    does: the findings before and after are the scan's (KQ among them), the repairs the same."""
    root = FIXTURES.parents[1]
    monkeypatch.chdir(root)
    args = ["fixtures/example/contoso-apim", "--usage", "fixtures/example/usage.csv", "--usage",
            "fixtures/example/platform", "--cost-centres", "fixtures/example/cost-centres.yaml"]
    code, out, err = _fix_cli(*args)
    assert code == 1 and out.startswith("diff --git a/fixtures/example/contoso-apim/"), err
    report = tmp_path / "scan.json"
    CliRunner().invoke(cli, ["scan", *args, "--format", "json", "--output", str(report), "--fail-on", "never"])
    findings = json.loads(report.read_text())["findings"]
    before = len(findings)
    assert any(f["rule_id"].startswith("KQ") for f in findings)
    assert f"{before} finding(s) before, {before - 6} after, 6 closed, 0 new" in err
    code, out, err = _fix_cli(*args[:1], "--usage", "fixtures/example/missing.csv")
    assert code == 2 and out == "" and "missing.csv" in err and "Traceback" not in err
