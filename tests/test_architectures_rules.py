"""Issue 23: the rules that assumed one shared gateway judge by the attribution model and by workspace.

KQ002 asks a cost-centre entry only for consumers whose spend is attributed at the gateway; DG002 matches an LLM
API's own diagnostic by workspace and name. Estates: tests/fixtures/architectures.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from test_architectures import ARCH, scan

DIAG = "Microsoft.ApiManagement/service/{kind}diagnostics"


def _copy(tmp_path: Path, name: str, change=None, centres: str | None = None) -> Path:
    target = tmp_path / name
    shutil.copytree(ARCH / name, target)
    if change is not None:
        doc = json.loads((target / "main.json").read_text())
        change(doc["resources"])
        (target / "main.json").write_text(json.dumps(doc))
    if centres is not None:
        (target / "cost-centres.yaml").write_text(centres)
    return target


UNRELATED_MAP = "cost_centres:\n  - consumer: someone-else\n    cost_centre: CC-9\n"


def _kq002(target: Path) -> set[str]:
    doc = json.loads(scan(target)[1])
    return {f["message"].split("'")[1] for f in doc["findings"] if f["rule_id"] == "KQ002"}


def test_kq002_asks_a_mapping_for_consumers_metered_at_a_shared_gateway(tmp_path):
    assert _kq002(_copy(tmp_path, "shared-apim-metric", centres=UNRELATED_MAP)) == {"alpha", "beta"}


def test_kq002_is_quiet_where_the_resource_says_who_pays(tmp_path):
    """Per-team APIM over a shared account: each instance is its team (tag), so the Service Name values need no
    map entry; the workspaces estate maps its workspaces, not the API ID values."""
    assert _kq002(_copy(tmp_path, "per-team-apim-shared-account", centres=UNRELATED_MAP)) == set()
    assert _kq002(ARCH / "workspaces") == set()


def test_kq002_in_a_mixed_estate_names_only_the_gateway_consumers(tmp_path):
    assert _kq002(_copy(tmp_path, "mixed", centres=UNRELATED_MAP)) == {"gamma", "delta"}


def _diag(name: str, kind: str, logs: str) -> dict:
    return {"type": DIAG.format(kind=kind), "apiVersion": "2024-05-01", "name": name,
            "properties": {"loggerId": "/loggers/azuremonitor", "largeLanguageModel": {"logs": logs}}}


def test_dg002_matches_an_apis_own_diagnostic_within_its_workspace(tmp_path):
    """ws-alpha's API turns LLM logs off for itself; ws-beta's workspace diagnostic turns them off for its APIs;
    a service-level diagnostic of an API named like ws-beta's (`chat-beta`, outside any workspace) is not ws-beta's
    API's own and does not switch its logs back on."""
    def diagnostics(res):
        res["svcDiag"] = _diag("apim-shared/azuremonitor", "", "enabled")
        res["alphaApiDiag"] = _diag("apim-shared/ws-alpha/chat-alpha/azuremonitor", "workspaces/apis/", "disabled")
        res["betaWsDiag"] = _diag("apim-shared/ws-beta/azuremonitor", "workspaces/", "disabled")
        res["sameNameDiag"] = _diag("apim-shared/chat-beta/azuremonitor", "apis/", "enabled")
    doc = json.loads(scan(_copy(tmp_path, "workspaces", diagnostics))[1])
    found = {(f["resource"], f["message"]) for f in doc["findings"]
             if f["rule_id"] == "DG002" and "LLM logging disabled" in f["message"]}
    assert {r for r, _m in found} == {"service/apim-shared/workspaces/ws-alpha/apis/chat-alpha",
                                      "service/apim-shared/workspaces/ws-beta"}
    (beta,) = [m for r, m in found if r.endswith("ws-beta")]
    assert "workspace 'ws-beta'" in beta and "chat-beta" in beta and "chat-alpha" not in beta


def _blank_consumers(tmp_path: Path, name: str) -> Path:
    target = _copy(tmp_path, name)
    usage = target / "usage.csv"
    rows = usage.read_text().splitlines()
    out = [rows[0]] + [",".join(c if i != 3 or r.split(",")[1] != "gateway" else "" for i, c in enumerate(r.split(",")))
                       for r in rows[1:]]
    usage.write_text("\n".join(out) + "\n")
    return target


def test_kq001_counts_only_unknown_values_that_went_to_no_team(tmp_path):
    """Gateway rows without a consumer value: on a shared gateway they went to no team (KQ001 with 2.25, the metered
    part); behind per-team APIM instances each instance is its team, so nothing went to no team and no header policy
    is asked for."""
    shared = json.loads(scan(_blank_consumers(tmp_path / "a", "shared-apim-metric"))[1])
    (kq001,) = [f for f in shared["findings"] if f["rule_id"] == "KQ001"]
    assert kq001["tokens"] == 10_500_000 and kq001["money"]["amount"] == 2.25
    per_team = json.loads(scan(_blank_consumers(tmp_path / "b", "per-team-apim-shared-account"))[1])
    assert not [f for f in per_team["findings"] if f["rule_id"] == "KQ001"]
    buckets = {b["bucket"]: b["money"] for b in per_team["attribution"]["money"]["buckets"]}
    assert buckets["attributed by resource"] == 2.70
