"""Secrets are found by PLACE and by SHAPE, redacted everywhere, and SEC001 reports only real credentials.

A hostile estate holds a credential in every place one turns up (each place its own secret, so a leak names
its place); it is scanned to every format and snapshotted, and no output may hold any of them. Real public
policies full of cache keys, counter keys, status codes and identifiers must raise no SEC001.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys

import pytest

from aoai_audit.policy.rawxml import read_policy
from aoai_audit.policy.secrets import credential_name
from aoai_audit.policy.shapes import high_entropy
from conftest import CORPUS, EXAMPLE, FIXTURES, ROOT, SCAN_FORMATS

# place -> (the secret, how the policy writes it). `{s}` is where the secret goes.
PLACES = {
    "authentication-certificate body": ("MIIKcQIBAzCCCi0GCSqGSIb3DQEHAaCCCh4EggoaMIIKFj",
                                        '<authentication-certificate body="{s}" password="Pfx-Pass-91c" />'),
    "authentication-certificate password": ("Pfx-Pass-91c", None),
    "authentication-basic password": ("hunter2-basic", '<authentication-basic username="svc" password="{s}" />'),
    "?code= in set-backend-service base-url": (
        "aBcD3fGh1jKlMn0pQrStUvWxYz0123456789zz==",
        '<set-backend-service base-url="https://fn.azurewebsites.net/api/x?code={s}" />'),
    "?api-key= in send-request set-url": (
        "f00dfeedf00dfeedf00dfeedf00dfeed",
        '<send-request mode="new" response-variable-name="r"><set-url>https://x.openai.azure.com/openai?v=1&amp;'
        'api-key={s}</set-url></send-request>'),
    "?sig= in rewrite-uri": ("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA%3D%3D", '<rewrite-uri template="/x?sv=1&amp;sig={s}" />'),
    "?key= in set-url": ("AIzaSyD-keyinurl-99887766", '<send-one-way-request><set-url>https://maps.example.com/v1?key={s}'
                                                       '</set-url></send-one-way-request>'),
    "set-query-parameter api-key": ("plainkey-1234", '<set-query-parameter name="api-key" exists-action="override">'
                                                     '<value>{s}</value></set-query-parameter>'),
    "header api_key": ("hdrkey_abc123", '<set-header name="api_key" exists-action="override"><value>{s}</value></set-header>'),
    "header x-api-token": ("tok-998877", '<set-header name="x-api-token" exists-action="override"><value>{s}</value>'
                                         "</set-header>"),
    "header x-ms-client-key": ("clientkey778", '<set-header name="x-ms-client-key" exists-action="override">'
                                               "<value>{s}</value></set-header>"),
    "header Ocp-Apim-Subscription-Key": ("0badc0de0badc0de0badc0de0badc0de",
                                         '<set-header name="Ocp-Apim-Subscription-Key" exists-action="override">'
                                         "<value>{s}</value></set-header>"),
    "Authorization Basic": ("dXNlcjpzM2NyZXQtYmFzaWM=", '<set-header name="Authorization" exists-action="override">'
                                                        "<value>Basic {s}</value></set-header>"),
    "string literal in an expression": ("exprsecret0099", '<set-variable name="x" value="@{{ var apiKey = &quot;{s}&quot;; '
                                                          'return apiKey; }}" />'),
    "high-entropy literal in an expression": ("9f8e7d6c5b4a39281706f5e4d3c2b1a0",
                                              '<set-header name="x-backend" exists-action="override">'
                                              '<value>@("{s}")</value></set-header>'),
    "key in an XML comment": ("0a1b2c3d4e5f60718293a4b5c6d7e8f9", "<!-- old key: {s} (rotated?) -->"),
    "validate-jwt issuer-signing-keys": ("c2lnbmluZy1rZXktc2VjcmV0LXZhbHVl",
                                         '<validate-jwt header-name="Authorization"><issuer-signing-keys><key>{s}</key>'
                                         "</issuer-signing-keys><decryption-keys><key>ZGVjcnlwdGlvbi1rZXktOTk=</key>"
                                         "</decryption-keys></validate-jwt>"),
    "validate-jwt decryption-keys": ("ZGVjcnlwdGlvbi1rZXktOTk=", None),
    "set-body JSON": ("jsonSecret-7788", '<set-body>{{"client_secret": "{s}", "model": "gpt-4o"}}</set-body>'),
    "set-variable value": ("varsecret-42", '<set-variable name="backendKey" value="{s}" />'),
    "fragment header": ("frag-secret-5151", None),  # in a fragment, below
    "plain named value of 32 hex": ("e3b0c44298fc1c149afbf4c8996fb924", None),  # in a named value, below
    # issue 25, class 7: what the parser joins or normalises, and places the raw text alone does not show
    # (the parser gives an element the line where its start tag ends: the finding is on the second line)
    "password split by a newline in an attribute": ("Nl-pass-part-two", '<authentication-basic username="u2" '
                                                    'password="Nl-pass-part-one\nNl-pass-part-two" />'),
    "first line of that password": ("Nl-pass-part-one", None),
    "value split by CDATA": ("cdatapart-AAA1", '<set-header name="x-api-key" exists-action="override"><value>'
                                               "cdatapart-AAA1<![CDATA[cdatapart-BBB2]]></value></set-header>"),
    "CDATA half of that value": ("cdatapart-BBB2", None),
    "value split by a comment": ("cmtpart-CCC3", '<set-header name="x-functions-key" exists-action="override"><value>'
                                                 "cmtpart-CCC3<!-- rotated -->cmtpart-DDD4</value></set-header>"),
    "second half of that value": ("cmtpart-DDD4", None),
    "user:pass@ in a base-url": ("Url-Pass-5150", '<set-backend-service base-url="https://svc:Url-Pass-5150@backend.'
                                                  'example.com/api" />'),
    "user:pass@ in a service URL": ("Svc-Url-Pass-6160", None),  # in apiInformation.json, below
    "Authorization in an unparseable policy": ("Unparsed-Auth-7171", None),  # in a broken policy, below
    "Cookie in an unparseable policy": ("Unparsed-Cookie-8181", None),
    "Password = x in a plain named value": ("Conn-Pass-9191", None),  # in a named value, below
    "Password='a b c' in a plain named value": ("quoted pass 2727", None),
    # issue 24 item 6: literals in expressions of credential-named places, redacted by place whatever they look like
    "literal in an expression of an api-key header": ("exprkey", '<set-header name="api-key" exists-action="override">'
                                                      '<value>@("exprkey")</value></set-header>'),
    "literal in an expression of a credential variable": ("vqk-two", '<set-variable name="apiKey" '
                                                          'value="@(&quot;vqk-two&quot;)" />'),
    "fallback literal of a credential query parameter": ("qpfallback", '<set-query-parameter name="code" '
                                                         'exists-action="override"><value>@(context.Request.Headers.'
                                                         'GetValueOrDefault("x-code", "qpfallback"))</value>'
                                                         "</set-query-parameter>"),
    "Set-Cookie value": ("CookieVal-3131", '<set-header name="Set-Cookie" exists-action="override"><value>'
                                           "session=CookieVal-3131; Path=/; Secure</value></set-header>"),
    "ARM securestring default": ("arm-secure-default-7f7f", None),  # in arm.json, below
    "Terraform sensitive value": ("tf-sensitive-policy-value-4242", None),  # in plan.json, below
}


def _hostile_estate(tmp):
    tree = tmp / "apim"
    shutil.copytree(EXAMPLE, tree)
    body = "\n".join(f"    {how.format(s=secret)}" for secret, how in PLACES.values() if how)
    (tree / "apis" / "weather" / "policy.xml").write_text(
        f'<policies>\n  <inbound>\n    <base />\n    <include-fragment fragment-id="leaky" />\n{body}\n  </inbound>\n'
        "  <backend><base /></backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\n")
    frag = tree / "policy fragments" / "leaky"
    frag.mkdir(parents=True, exist_ok=True)
    (frag / "policy.xml").write_text('<fragment>\n  <set-header name="x-functions-key" exists-action="override">'
                                     f'<value>{PLACES["fragment header"][0]}</value></set-header>\n</fragment>\n')
    info = tree / "apis" / "weather" / "apiInformation.json"
    info.write_text(info.read_text().replace("https://weather.contoso.internal/api",
                                             f"https://svc:{PLACES['user:pass@ in a service URL'][0]}@weather.contoso.internal/api"))
    (tree / "apis" / "orders" / "operations" / "create-order" / "policy.xml").write_text(
        '<policies><inbound><base /><set-header name="Authorization" exists-action="override"><value>'
        f'{PLACES["Authorization in an unparseable policy"][0]}</value></set-header>\n<set-header name="Cookie" '
        f'exists-action="override"><value>session={PLACES["Cookie in an unparseable policy"][0]}</value></set-header>'
        "\n<set-header name=")  # cut off: the policy cannot be parsed
    spaced, quoted = PLACES["Password = x in a plain named value"][0], PLACES["Password='a b c' in a plain named value"][0]
    for name, value in (("db-conn", f"Server=tcp:db;Password = {spaced};"), ("db-conn-2", f"Server=tcp:db;Password='{quoted}'")):
        folder = tree / "named values" / name
        folder.mkdir(parents=True)
        (folder / "namedValueInformation.json").write_text(json.dumps({"properties": {
            "displayName": name, "secret": False, "value": value}}))
    nv = tree / "named values" / "backend-ref"
    nv.mkdir(parents=True)
    (nv / "namedValueInformation.json").write_text(json.dumps({"properties": {
        "displayName": "backend-ref", "secret": False, "value": PLACES["plain named value of 32 hex"][0]}}))
    arm = tmp / "arm.json"
    arm.write_text(json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"backendToken": {"type": "securestring", "defaultValue": PLACES["ARM securestring default"][0]}},
        "resources": [
            {"type": "Microsoft.ApiManagement/service/apis", "apiVersion": "2024-05-01", "name": "gw/chat",
             "properties": {"displayName": "Chat", "path": "chat", "serviceUrl": "https://eu.openai.azure.com/openai"}},
            {"type": "Microsoft.ApiManagement/service/apis/policies", "apiVersion": "2024-05-01",
             "name": "gw/chat/policy", "properties": {"format": "rawxml", "value": (
                 "[concat('<policies><inbound><base /><set-header name=\"x-backend-ref\" exists-action=\"override\">"
                 "<value>', parameters('backendToken'), '</value></set-header></inbound></policies>')]")}},
        ]}, indent=1))
    plan = tmp / "plan.json"
    sensitive = PLACES["Terraform sensitive value"][0]
    plan.write_text(json.dumps({"format_version": "1.2", "planned_values": {"root_module": {"resources": [
        {"address": "azurerm_api_management.gw", "type": "azurerm_api_management", "name": "gw",
         "values": {"name": "tfgw", "resource_group_name": "rg"}, "sensitive_values": {}},
        {"address": "azurerm_api_management_api.chat", "type": "azurerm_api_management_api", "name": "chat",
         "values": {"api_management_name": "tfgw", "resource_group_name": "rg", "name": "chat", "path": "chat",
                    "service_url": "https://tf.openai.azure.com/openai"}, "sensitive_values": {}},
        {"address": "azurerm_api_management_api_policy.chat", "type": "azurerm_api_management_api_policy",
         "name": "chat", "values": {"api_management_name": "tfgw", "resource_group_name": "rg", "api_name": "chat",
                                    "xml_content": f"<policies><inbound><set-header name=\"x-ref\" exists-action="
                                                   f"\"override\"><value>{sensitive}</value></set-header></inbound>"
                                                   "</policies>"},
         "sensitive_values": {"xml_content": True}},
        {"address": "azurerm_api_management_named_value.ref", "type": "azurerm_api_management_named_value",
         "name": "ref", "values": {"api_management_name": "tfgw", "resource_group_name": "rg", "name": "ref",
                                   "display_name": "ref", "secret": False, "value": sensitive},
         "sensitive_values": {"value": True}},
    ]}}}))
    return tree, arm, plan


def test_a_credential_in_every_place_reaches_no_output_and_no_snapshot(tmp_path):
    tree, arm, plan = _hostile_estate(tmp_path)
    written_in = "".join(p.read_text() for p in [*tree.rglob("*.xml"), *tree.rglob("*.json"), arm, plan])
    secrets = {place: s for place, (s, _how) in PLACES.items()}
    assert all(s in written_in for s in secrets.values()), "each secret must really be in the estate"
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "aoai_audit.cli", "--log-level", "debug", "scan", str(tree), str(arm), str(plan),
           "--output-dir", str(out)]
    for fmt in SCAN_FORMATS:
        cmd += ["--format", fmt]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    snap = tmp_path / "snap.json.gz"
    collect = subprocess.run([sys.executable, "-m", "aoai_audit.cli", "collect", str(tree), str(arm), str(plan),
                              "-o", str(snap)], capture_output=True, text=True, cwd=ROOT)
    assert snap.is_file(), collect.stderr
    outputs = {p.name: p.read_text() for p in out.iterdir()}
    outputs |= {"snapshot": gzip.decompress(snap.read_bytes()).decode(), "stdout": proc.stdout,
                "stderr (debug log)": proc.stderr, "collect stderr": collect.stderr}
    assert {"aoai-audit.html", "aoai-audit.json"} <= set(outputs)
    leaks = [(place, name) for place, s in secrets.items() for name, text in outputs.items() if s in text]
    assert leaks == []
    # the HTML really shows the policy (so the excerpt path was exercised), redacted
    assert "weather/policy.xml" in outputs["aoai-audit.html"] and "***redacted***" in outputs["aoai-audit.html"]
    # SEC001 says where, one finding per place in the policy (the comment and each attribute included)
    doc = json.loads(outputs["aoai-audit.json"])
    lines = {f["location"]["line"] for f in doc["findings"]
             if f["rule_id"] == "SEC001" and (f["location"]["path"] or "").endswith("weather/policy.xml")}
    policy_lines = (tree / "apis" / "weather" / "policy.xml").read_text().splitlines()
    expected = {n for n, text in enumerate(policy_lines, 1)
                if any(s in text for s, how in PLACES.values() if how)}
    assert lines == expected
    messages = " ".join(f["message"] for f in doc["findings"] if f["rule_id"] == "SEC001")
    assert "backend-ref" in messages  # the plain named value holding 32 hex characters
    assert "fragment" in messages  # the fragment's own header
    # what could not be read safely is said: the policy that holds a Terraform sensitive value
    assert any(f["rule_id"] in ("AU001", "AU002") and "sensitive" in f["message"] for f in doc["findings"])


NOT_SECRETS = """<policies><inbound><base />
  <cache-lookup-value key="backend-routing-list" variable-name="routes" />
  <cache-lookup-value key="@("token-" + context.Subscription.Id)" variable-name="t" />
  <cache-store-value key="azureManagementApiTokenCacheKey" value="@((string)context.Variables["accessToken"])" duration="3000" />
  <cache-remove-value key="listBackends" />
  <rate-limit-by-key calls="10" renewal-period="60" counter-key="@(context.Subscription.Id)" />
  <quota-by-key calls="1000" renewal-period="86400" counter-key="team-research-2024" />
  <llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="5000" estimate-prompt-tokens="true" remaining-tokens-variable-name="remainingTokens" />
  <azure-openai-token-limit counter-key="@(context.Request.IpAddress)" tokens-per-minute="500" />
  <set-header name="X-CSRF-Token" exists-action="override"><value>Fetch</value></set-header>
  <set-header name="x-ratelimit-remaining-tokens" exists-action="override"><value>0</value></set-header>
  <set-header name="api-key" exists-action="delete" />
  <set-header name="Set-Cookie" exists-action="override"><value>__Host-session=; Max-Age=0; Path=/; Secure</value></set-header>
  <set-header name="Set-Cookie" exists-action="override"><value>@("__Host-" + (string)context.Variables["n"] + "=; Max-Age=0")</value></set-header>
  <set-header name="api-key" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("api-key", "").Replace("Bearer ", ""))</value></set-header>
  <set-header name="api-key" exists-action="override"><value>{{aoai-api-key}}</value></set-header>
  <set-header name="Authorization" exists-action="override"><value>@("Bearer " + (string)context.Variables["t"])</value></set-header>
  <set-header name="Authorization" exists-action="override"><value>Bearer {backend-token}</value></set-header>
  <set-variable name="signature" value="@(context.Variables.GetValueOrDefault&lt;string&gt;("jwtSignatureBase64UrlEncoded"))" />
  <set-variable name="sas" value="@(string.Format("sr={0}&amp;sig={1}&amp;se={2}", a, b, c))" />
  <set-variable name="ns" value="http://www.w3.org/2001/XMLSchema-instance" />
  <set-backend-service base-url="https://contoso.openai.azure.com/openai" />
  <set-variable name="subscription" value="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.CognitiveServices/accounts/aoai" />
  <validate-jwt header-name="Authorization"><issuer-signing-keys><key certificate-id="my-cert" /><key>{{signing-key}}</key></issuer-signing-keys></validate-jwt>
  <set-status code="403" reason="Forbidden" />
  <!-- docs: https://help.example.com/docs/d599f15995d348a1b45ba5603e2aba9b/6b3c741483de47b290d075d798163b0e.html -->
  <!-- sample payload: {"paymentTokens": ["4dd9236bc7514d5c86bae14cf65729d5"]} -->
</inbound></policies>"""


def test_cache_and_counter_keys_status_codes_and_identifiers_are_not_secrets():
    policy = read_policy(NOT_SECRETS, scope="api", path="p.xml")
    assert policy.error is None, policy.error
    assert [(h.kind, h.line) for h in policy.document.secrets] == []


def _real_policies():
    return sorted((FIXTURES / "precision").glob("*.xml")) + sorted(p for p in CORPUS.rglob("*.xml") if p.is_file())


def test_no_sec001_on_real_public_policies():
    """Precision on real material: the corpus (tests/fixtures/corpus) plus the MIT policy snippets in tests/fixtures/precision
    (see its SOURCES.md). Before place-based detection, the corpus alone gave 5 false SEC001s."""
    files = _real_policies()
    assert len(files) >= 15 + 72  # the snippets and the corpus's policies
    hits = []
    for path in files:
        policy = read_policy(path.read_bytes(), scope="api", path=str(path))
        hits += [(path.name, h.line, h.kind) for h in (policy.document.secrets if policy.document else ())]
    assert hits == []


@pytest.mark.parametrize("name", ["api-key", "api_key", "x-api-token", "x-ms-client-key", "Ocp-Apim-Subscription-Key",
                                  "Authorization", "client_secret", "backendKey", "x-functions-key", "SAS-Token"])
def test_credential_names(name):
    assert credential_name(name)


@pytest.mark.parametrize("name", ["x-cache-key", "counter-key", "x-ratelimit-remaining-tokens", "x-token-count",
                                  "Idempotency-Key", "x-ms-client-principal-name", "x-team-id", "remainingTokens"])
def test_names_that_mention_a_credential_without_holding_one(name):
    assert not credential_name(name)


@pytest.mark.parametrize("token,expected", [
    ("4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99", True),  # 32 hex: an APIM subscription key / AOAI key shape
    ("c3RvcmFnZS1hY2NvdW50LWtleS10aGF0LW11c3Qtbm90LWxlYWs1", True),
    ("9Xk2LmQ7vR4tWz8pN3sJ6hB1cF5gD0aE", True),
    ("jwtSignatureBase64UrlEncoded", False),  # an identifier
    ("GetValueOrDefaultAsString2024", False),
    ("9d8b5a2e-1c4f-4e6a-9b3d-7f2e1a0c5b44", False),  # a GUID: an id
    ("x-ms-client-principal-name-header", False),
    ("org/2001/XMLSchema-instance", False),
])
def test_high_entropy_literals(token, expected):
    assert high_entropy(token) is expected


def test_a_policy_that_does_not_parse_keeps_no_credential_in_its_text():
    """AU002 shows where the parse broke; the text it keeps passes raw-XML place patterns and the shapes."""
    broken = ('<policies><inbound>\n<authentication-basic username="u" password="hunter2-broken" />\n'
              '<set-header name="x-api-key" exists-action="override"><value>brokenkey-7a7a</value></set-header>\n'
              '<set-url>https://x/y?code=aBcD3fGh1jKlMn0pQrStUvWxYz0123</set-url>\n<!-- key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0 -->\n'
              "<inbound>")  # unclosed
    policy = read_policy(broken, scope="api", path="broken.xml")
    assert policy.error is not None and policy.text.count("\n") == broken.count("\n")
    for secret in ("hunter2-broken", "brokenkey-7a7a", "aBcD3fGh1jKlMn0pQrStUvWxYz0123", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"):
        assert secret not in policy.text
