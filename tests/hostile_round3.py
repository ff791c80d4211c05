"""Hostile input, round three (issue 25): each case names its class ("R3-1" regex backtracking, "R3-3" YAML, ...).

`all_cases()` is every round; tests/test_hostile_inputs.py and scripts/hostile_table.py run them all, each in its
own process with its time and peak memory bounded.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import EXAMPLE
from hostile_cases import ARM_BASE, GOOD, POLICY, YAML_BOMB, Hostile, _file, _policy, _tree, cases

HUGE = "9" * 5_001  # past Python's 4,300-digit limit for int(str)


def _repo_with(name: str, data: str) -> Callable[[Path], Path]:
    """The example tree under repo/apim, plus an unrelated file at repo/NAME (`scan .` of a repository)."""
    def build(tmp: Path) -> Path:
        repo = tmp / "repo"
        repo.mkdir()
        shutil.copytree(EXAMPLE, repo / "apim")
        (repo / name).write_text(data)
        return repo
    return build


def _with_option(option: str, name: str, data: str) -> Callable[[Path], tuple[Path, list[str]]]:
    """The example tree scanned with `option FILE`, FILE holding `data`."""
    def build(tmp: Path) -> tuple[Path, list[str]]:
        tree = _tree(tmp)
        path = tmp / name
        path.write_text(data)
        return tree, [option, str(path)]
    return build


def _named_value(value: str) -> Callable[[Path], Path]:
    return _file("named values/environment/namedValueInformation.json",
                 json.dumps({"properties": {"displayName": "environment", "secret": False, "value": value}}))


def _service_url(url: str) -> Callable[[Path], Path]:
    return _file("apis/weather/apiInformation.json", json.dumps({"properties": {
        "displayName": "Weather", "path": "weather", "protocols": ["https"], "serviceUrl": url,
        "subscriptionRequired": True}}))


HEX = [secrets.token_hex(20) for _ in range(40_000)]
HEX_POLICY = ("<policies><inbound><base />" + "".join(f'<set-variable name="v" value="{h}" />' for h in HEX)
              + "</inbound></policies>")  # 2.6 MB
KEYS = "key-" * 1_500 + ": x"  # 6 KB, then what makes the credential-name pattern try every split
# The bomb's top node in the place the reader turns into text (a model name, a consumer): str() of 9^8 lists.
BOMB_HEAD = YAML_BOMB.split("paths:")[0]
COST_CENTRES_BOMB = BOMB_HEAD + "cost_centres:\n  - consumer: *i\n    cost_centre: CC-1\n"
PRICES_BOMB = BOMB_HEAD + "prices:\n  - model: *i\n    input: 1\n    output: 1\n"
COLUMNS = "day,consumer,api," + "a" + " " * 20_000 + "b" + ",input_tokens,output_tokens\n2026-11-01,x,chat,1,2,3\n"
USAGE_HUGE = json.dumps({"tables": [{"columns": [{"name": "day"}, {"name": "consumer"}, {"name": "input_tokens"}],
                                     "rows": [["2026-11-01", "x", 1]]}]}).replace('1]]', HUGE + "]]")
PRICES_HUGE = '{"currency": "USD", "prices": [{"model": "gpt-4o", "input": ' + HUGE + ', "output": 1}]}'
PLAN_HUGE = '{"format_version": "1.2", "planned_values": {"root_module": {"resources": [{"values": {"n": ' + HUGE + "}}]}}}"
ARM_HUGE = json.dumps({**ARM_BASE, "resources": []})[:-1] + ', "variables": {"n": ' + HUGE + "}}"
API_HUGE = ('{"properties": {"displayName": "Weather", "path": "weather", "serviceUrl": "https://w.contoso.internal",'
            ' "apiRevision": ' + HUGE + "}}")


CUT_LLM_POLICY = "<policies><inbound><base /><llm-emit-token-metric"
CHAT = "apis/chat-completions/policy.xml"


def _broken_chat_with(option: str, data: str = "") -> Callable[[Path], tuple[Path, list[str]]]:
    """The example with its LLM API's policy cut off, scanned with `option` (and a file holding `data`)."""
    def build(tmp: Path) -> tuple[Path, list[str]]:
        tree = _tree(tmp)
        (tree / CHAT).write_text(CUT_LLM_POLICY)
        if not data:
            return tree, option.split(" ")
        path = tmp / "aoai-audit.yaml"
        path.write_text(data)
        return tree, [option, str(path)]
    return build


SVC = "Microsoft.ApiManagement/service"
LLM_TEMPLATE = {**ARM_BASE, "resources": [
    {"type": SVC, "apiVersion": "2024-05-01", "name": "apim-win", "location": "westeurope",
     "properties": {"publisherEmail": "a@contoso.com", "publisherName": "c"}},
    {"type": f"{SVC}/apis", "apiVersion": "2024-05-01", "name": "apim-win/chat",
     "properties": {"path": "openai", "serviceUrl": "https://x.openai.azure.com/openai"}},
    {"type": f"{SVC}/apis/policies", "apiVersion": "2024-05-01", "name": "apim-win/chat/policy",
     "properties": {"format": "rawxml", "value": "<policies><inbound><base /></inbound></policies>"}}]}


def _in_repo(rel: str, data: bytes) -> Callable[[Path], Path]:
    """The example tree under repo/apim, plus a file at repo/REL (`scan .` of the repository)."""
    def build(tmp: Path) -> Path:
        repo = tmp / "repo"
        repo.mkdir()
        shutil.copytree(EXAMPLE, repo / "apim")
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(data)
        return repo
    return build


DEEP = "d" * 250  # one folder name; 20 of them make a path past PATH_MAX (4,096)


def _past_path_max(tmp: Path) -> Path:
    """A policy 20 folders of 250 characters down: built with folder descriptors, as no path can name it."""
    repo = tmp / "repo"
    repo.mkdir()
    shutil.copytree(EXAMPLE, repo / "apim")
    fd = os.open(repo, os.O_RDONLY)
    try:
        for _ in range(20):
            os.mkdir(DEEP, dir_fd=fd)
            deeper = os.open(DEEP, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = deeper
        out = os.open("policy.xml", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, GOOD.encode())
        os.close(out)
    finally:
        os.close(fd)
    return repo


def _template(url: str, variables: dict | None = None) -> Callable[[Path], Path]:
    """An ARM template whose LLM API's service URL is `url` (an expression), alone in a file."""
    doc = json.loads(json.dumps(LLM_TEMPLATE))
    doc["resources"][1]["properties"]["serviceUrl"] = url
    if variables:
        doc["variables"] = variables
    return _single_json("azuredeploy.json", doc)


def _single_json(name: str, doc: dict) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        target = tmp / name
        target.write_text(json.dumps(doc))
        return target
    return build


DOUBLING = {"v0": "xx", **{f"v{i}": f"[concat(variables('v{i - 1}'), variables('v{i - 1}'))]" for i in range(1, 41)}}
SHARED = {"a0": ["x" * 64], **{f"a{i}": [f"[variables('a{i - 1}')]", f"[variables('a{i - 1}')]"] for i in range(1, 41)}}
LAMBDA_DOUBLING = ("[reduce(range(0, 40), 'xx', lambda('acc', 'i', "
                   "concat(lambdaVariables('acc'), lambdaVariables('acc'))))]")
LAMBDA_SQUARING = "[string(reduce(range(0, 60), 3, lambda('a', 'i', mul(lambdaVariables('a'), lambdaVariables('a')))))]"
MANY_ARGS = "[concat(" + "'a'," * 800_000 + "'a')]"


USAGE_HEAD = "day,dimension,consumer,api,input_tokens,output_tokens,total_tokens,source\n"
EUR_ONE_MODEL = "currency: EUR\nprices:\n  - {model: gpt-4o, input: '2.10', output: '8.40'}\n"
METRICS_NUMBER = json.dumps({"timespan": "2026-11-01T00:00:00Z/2026-11-02T00:00:00Z", "value": [
    {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/a/providers/"
           "Microsoft.Insights/metrics/InputTokens", "name": {"value": "InputTokens"}, "timeseries": 5}]})
SKU_STRING = json.dumps({"value": [{"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/"
                                          "accounts/a/deployments/d", "name": "d", "sku": "Standard",
                                    "properties": {"model": {"name": "gpt-4o", "version": "2024-08-06"}}}]})


def _usage(name: str, data: str, *extra: str) -> Callable[[Path], tuple[Path, list[str]]]:
    """The example tree with a usage file (and more options)."""
    def build(tmp: Path) -> tuple[Path, list[str]]:
        tree, options = _with_option("--usage", name, data)(tmp)
        return tree, options + list(extra)
    return build


LEAK = "Zq7-" + secrets.token_urlsafe(12)  # fresh each run: a leak cannot be an accident of a fixed string
UNPARSED_AUTH = ('<policies><inbound><base /><set-header name="Authorization" exists-action="override"><value>'
                 f"{LEAK}</value></set-header>\n<set-header name=")
SPLIT_BY_CDATA = ('<policies><inbound><base /><set-header name="api-key" exists-action="override"><value>'
                  f"{LEAK[:8]}<![CDATA[{LEAK[8:]}]]></value></set-header></inbound></policies>")


_SERVERS: list[Any] = []  # fake ARMs of live cases, stopped when the process ends


def _live_huge_page(tmp: Path) -> tuple[None, list[str], dict[str, str]]:
    """A live scan of the fake ARM (real SDK clients, loopback) whose API list page is 300 MB, streamed."""
    import atexit

    from aoai_audit.sources.detect import load_paths
    from fakearm import SUB, FakeARM, login_env, tenant_from_estate

    srv = FakeARM(tenant_from_estate(load_paths([str(EXAMPLE)]))).__enter__()
    _SERVERS.append(srv)
    atexit.register(srv.__exit__, None, None, None)
    srv.inject("GET", r"/service/[^/]+/apis$", (200, {}, ("HUGE", 300 * 2**20)))
    return None, ["--subscription", SUB, "--arm-endpoint", srv.base_url, "--no-usage"], login_env(srv)


def round3() -> list[Hostile]:
    return [
        # 1. regex backtracking
        Hostile("R3-1 a build.xml with 40 comment lines before its root (`scan .`)",
                _repo_with("build.xml", "<!-- a comment line -->\n" * 40 + '<project name="x"/>'), "clean"),
        Hostile("R3-1 a 6 KB comment of key-key-... in a policy",
                _policy(GOOD.replace("<inbound>", f"<inbound><!-- {KEYS} -->")), "clean"),
        Hostile("R3-1 a named value of key-key-...", _named_value(KEYS), "clean"),
        Hostile("R3-1 a service URL of {{ and 6,000 spaces", _service_url("{{" + " " * 6_000), "clean"),
        Hostile("R3-1 a usage CSV column name of 20,000 spaces", _with_option("--usage", "usage.csv", COLUMNS),
                "clean"),
        Hostile("R3-1 a 3 MB policy with 40,000 hex literals", _policy(HEX_POLICY), "clean", secret=HEX[-1]),
        # 2. ARM expressions without resource bounds
        Hostile("R3-2 padLeft('x', 2147483647)", _template("[padLeft('x', 2147483647)]"), "AU002", "not evaluated"),
        Hostile("R3-2 format('{0,2147483647}', 'x')", _template("[format('{0,2147483647}', 'x')]"), "AU002",
                "not evaluated"),
        Hostile("R3-2 40 variables each doubling the previous", _template("[variables('v40')]", DOUBLING), "AU002",
                "not evaluated"),
        Hostile("R3-2 40 arrays each holding the previous twice, then string()",
                _template("[string(variables('a40'))]", SHARED), "AU002", "not evaluated"),
        Hostile("R3-2 doubling inside reduce", _template(LAMBDA_DOUBLING), "AU002", "not evaluated"),
        Hostile("R3-2 mul(a, a) squared 60 times inside reduce", _template(LAMBDA_SQUARING), "AU002", "not evaluated"),
        Hostile("R3-2 concat() of 800,000 arguments", _template(MANY_ARGS), "AU002", "not evaluated"),
        # 3. YAML that skipped the bounded reader
        Hostile("R3-3 YAML alias bomb in --cost-centres", _with_option("--cost-centres", "cc.yaml", COST_CENTRES_BOMB),
                "usage", "cc.yaml"),
        Hostile("R3-3 YAML alias bomb in --prices", _with_option("--prices", "prices.yaml", PRICES_BOMB),
                "usage", "prices.yaml"),
        Hostile("R3-3 YAML alias bomb in --config", _with_option("--config", "aoai-audit.yaml", YAML_BOMB),
                "usage", "aoai-audit.yaml"),
        # 5. usage and money bounds
        Hostile("R3-5 an EUR --prices override for one model beside the shipped USD prices",
                _with_option("--prices", "eur.yaml", EUR_ONE_MODEL), "usage", "one currency per run"),
        Hostile("R3-5 1e24 tokens on a usage row",
                _usage("usage.csv", USAGE_HEAD + "2026-11-01,Team,a,chat-completions,1e24,1,1e24,gateway\n"),
                "usage", "usage.csv:2"),
        Hostile("R3-5 a usage row dated 9999-12-31",
                _usage("usage.csv", USAGE_HEAD + "9999-12-31,Team,a,chat-completions,1,1,2,gateway\n"),
                "usage", "usage.csv:2"),
        Hostile("R3-5 a metrics export whose timeseries is a number", _usage("metrics.json", METRICS_NUMBER),
                "usage", "timeseries"),
        Hostile("R3-5 a deployments export whose sku is a string", _usage("deployments.json", SKU_STRING),
                "usage", "sku"),
        # 7. secrets that escaped redaction (every place is in tests/test_secret_places.py)
        Hostile("R3-7 Authorization in a policy that cannot be parsed", _policy(UNPARSED_AUTH), "AU002", POLICY,
                secret=LEAK),
        Hostile("R3-7 an api-key value split by CDATA", _policy(SPLIT_BY_CDATA), "clean", secret=LEAK[8:]),
        Hostile("R3-7 user:pass@ in a service URL", _service_url(f"https://svc:{LEAK}@weather.contoso.internal/api"),
                "clean", secret=LEAK),
        # 8. a gate that could be narrowed
        Hostile("R3-8 --only TM001,TM002,HD001 with an LLM API's policy cut off",
                _broken_chat_with("--only TM001,TM002,HD001"), "AU002", CHAT),
        Hostile("R3-8 `skip: [AU001, AU002]` in a committed config", _broken_chat_with("--config", "skip: [AU001, AU002]\n"),
                "AU002", CHAT),
        # 9. a folder walk that skipped inputs
        Hostile("R3-9 a UTF-16 template (Windows PowerShell's `>`) in a scanned folder",
                _in_repo("infra/azuredeploy.json", json.dumps(LLM_TEMPLATE, indent=2).encode("utf-16")), "source",
                "infra/azuredeploy.json"),
        Hostile("R3-9 a template whose $schema comes after a 6 KB metadata block",
                _in_repo("infra/azuredeploy.json", json.dumps({"metadata": {"description": "x" * 6_000},
                                                                 **LLM_TEMPLATE}).encode()), "source",
                "infra/azuredeploy.json"),
        Hostile("R3-9 a template below a folder that is itself an APIOps layout",
                _in_repo("apim/templates/azuredeploy.json", json.dumps(LLM_TEMPLATE).encode()), "source",
                "apim/templates/azuredeploy.json"),
        Hostile("R3-9 a policy path longer than PATH_MAX", _past_path_max, "AU001", DEEP),
        # 10. live responses without a size bound
        Hostile("R3-10 a 300 MB API list page from the (fake) ARM, live", _live_huge_page, "AU001", "/apis"),
        # 4. numbers past Python's 4,300-digit limit
        Hostile("R3-4 a 5,001-digit number in an unrelated fixture.json (`scan .`)",
                _repo_with("fixture.json", '{"n": ' + HUGE + "}"), "clean"),
        Hostile("R3-4 a 5,001-digit number in apiInformation.json", _file("apis/weather/apiInformation.json", API_HUGE),
                "AU002", "apis/weather/apiInformation.json"),
        Hostile("R3-4 a 5,001-digit number in a Terraform plan", _repo_with("plan.json", PLAN_HUGE), "AU002",
                "plan.json"),
        Hostile("R3-4 a 5,001-digit number in an ARM template", _repo_with("azuredeploy.json", ARM_HUGE), "AU002",
                "azuredeploy.json"),
        Hostile("R3-4 a 5,001-digit number in a usage file", _with_option("--usage", "usage.json", USAGE_HUGE),
                "usage", "usage.json"),
        Hostile("R3-4 a 5,001-digit number in a --prices file", _with_option("--prices", "prices.json", PRICES_HUGE),
                "usage", "prices.json"),
    ]


def all_cases() -> list[Hostile]:
    return [*cases(), *round3()]


__all__ = ["POLICY", "all_cases", "round3"]
