"""ARM template expressions are evaluated as far as the template says; unknown parts stay typed placeholders.

Expected values follow Microsoft's template function reference (the examples on each function's page where
there is one): https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions
"""

from __future__ import annotations

import json
import os

import pytest

from aoai_audit.sources.arm.evaluator import Evaluator
from aoai_audit.sources.arm.values import Text, Unknown, render
from conftest import ROOT, audit

RG = "/subscriptions/{subscription}/resourceGroups/{resourceGroup}"
EV = Evaluator(
    {
        "a": {"defaultValue": "A"},
        "n": {"defaultValue": 3},
        "name": {"type": "string"},
        "backends": {"defaultValue": [{"name": "b1", "weight": 2}, {"name": "b2", "weight": 1}]},
        "obj": {"defaultValue": {"one": "a", "two": "b"}},
    },
    {
        "v": "V",
        "settings": {"path": "[concat('/', parameters('a'))]", "nested": {"flag": "[equals(parameters('n'), 3)]"}},
        "copy": [{"name": "names", "count": "[parameters('n')]", "input": "[format('b{0}', copyIndex('names', 1))]"}],
    },
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # logical and comparison
        ("[if(equals(parameters('a'), 'A'), 'yes', 'no')]", "yes"),
        ("[and(bool('true'), bool('false'))]", False),
        ("[or(bool('true'), bool('false'))]", True),
        ("[not(equals(1, 2))]", True),
        ("[bool(1)]", True),
        ("[greater('A', 'a')]", True),  # template-functions-comparison: culture order, not ordinal
        ("[less(1, 2)]", True),
        ("[greaterOrEquals(2, 2)]", True),
        ("[lessOrEquals(3, 2)]", False),
        ("[coalesce(null(), null(), 'default')]", "default"),
        ("[coalesce('', 'x')]", ""),  # an empty string is not null
        # string
        ("[format('{0}, {1}. Formatted number: {2:N0}', 'Hello', 'User', 8175133)]", "Hello, User. Formatted number: 8,175,133"),
        ("[format('{0:D3}-{{x}}', 7)]", "007-{x}"),
        ("[concat('prefix-', parameters('a'))]", "prefix-A"),
        ("[replace('123-123-1234', '-', '')]", "1231231234"),
        ("[substring('one two three', 4, 3)]", "two"),
        ("[indexOf('test', 'T')]", 0),  # case-insensitive
        ("[lastIndexOf('test', 't')]", 3),
        ("[split('one,two,three', ',')]", ["one", "two", "three"]),
        ("[toLower('One Two')]", "one two"),
        ("[toUpper('one')]", "ONE"),
        ("[trim('  one two three   ')]", "one two three"),
        ("[startsWith('abcdef', 'AB')]", True),
        ("[endsWith('abcdef', 'EF')]", True),
        ("[padLeft('123', 10, '0')]", "0000000123"),
        ("[base64('one, two, three')]", "b25lLCB0d28sIHRocmVl"),
        ("[base64ToString('b25lLCB0d28sIHRocmVl')]", "one, two, three"),
        ("[uri('http://contoso.org/firstpath', 'myscript.sh')]", "http://contoso.org/myscript.sh"),
        ("[uriComponent('http://contoso.com/resources/nested/azuredeploy.json')]",
         "http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json"),
        ("[string(parameters('obj'))]", '{"one":"a","two":"b"}'),
        ("[string(5)]", "5"),
        ("[json('{\"a\": [1, 2]}').a[1]]", 2),
        ("[take('one two', 2)]", "on"),
        ("[skip('one two three', 4)]", "two three"),
        ("[first('One')]", "O"),
        ("[last('One')]", "e"),
        ("[length('One Two Three')]", 13),
        ("[empty('')]", True),
        ("[contains('OneTwoThree', 'e')]", True),
        ("[contains(parameters('obj'), 'ONE')]", True),  # object keys case-insensitively
        # array and object
        ("[createArray(1, 2, 3)]", [1, 2, 3]),
        ("[createObject('a', 1, 'b', createArray('x'))]", {"a": 1, "b": ["x"]}),
        ("[union(createObject('a', 1), createObject('b', 2, 'a', 3))]", {"a": 3, "b": 2}),
        ("[union(createArray('one', 'two'), createArray('two', 'three'))]", ["one", "two", "three"]),
        ("[intersection(createArray('one', 'two'), createArray('two', 'three'))]", ["two"]),
        ("[range(1, 3)]", [1, 2, 3]),
        ("[length(parameters('backends'))]", 2),
        ("[first(parameters('backends')).name]", "b1"),
        ("[last(parameters('backends'))['name']]", "b2"),
        ("[array('x')]", ["x"]),
        ("[items(parameters('obj'))[1].value]", "b"),
        ("[concat(createArray(1), createArray(2))]", [1, 2]),
        ("[tryGet(parameters('obj'), 'missing')]", None),
        # numeric
        ("[add(1, 2)]", 3),
        ("[sub(7, 10)]", -3),
        ("[mul(4, 5)]", 20),
        ("[div(-7, 2)]", -3),  # truncates toward zero
        ("[mod(-7, 2)]", -1),
        ("[min(createArray(3, 1, 2))]", 1),
        ("[max(3, 4)]", 4),
        ("[int('4')]", 4),
        # deployment and resource
        ("[variables('settings').path]", "/A"),
        ("[variables('settings').nested.flag]", True),
        ("[variables('names')]", ["b1", "b2", "b3"]),  # copy variable
        ("[resourceId('Microsoft.Web/sites', parameters('a'))]", f"{RG}/providers/Microsoft.Web/sites/A"),
        ("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r1')]",
         "/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/r1"),
        ("[resourceGroup().id]", RG),
        # lambda
        ("[map(parameters('backends'), lambda('b', lambdaVariables('b').name))]", ["b1", "b2"]),
        ("[filter(parameters('backends'), lambda('b', greater(lambdaVariables('b').weight, 1)))]",
         [{"name": "b1", "weight": 2}]),
        ("[reduce(parameters('backends'), 0, lambda('acc', 'b', add(lambdaVariables('acc'), lambdaVariables('b').weight)))]", 3),
        ("[toObject(parameters('backends'), lambda('b', lambdaVariables('b').name)).b2.weight]", 1),
    ],
)
def test_functions_as_documented(expression, expected):
    assert render(EV.value(expression)) == expected


@pytest.mark.parametrize(
    ("expression", "shown"),
    [
        ("[parameters('name')]", "{name}"),
        ("[format('https://{0}.openai.azure.com/openai', parameters('name'))]", "https://{name}.openai.azure.com/openai"),
        ("[concat('apim-', uniqueString(resourceGroup().id))]", "apim-{uniqueString(resourceGroup().id)}"),
        ("[toLower(format('{0}-X', parameters('name')))]", "{name}-x"),  # known text lowered, unknown kept
        ("[replace(format('<p a=\"{0}\">{{x}}</p>', parameters('name')), '{x}', 'y')]", '<p a="{name}">y</p>'),
        ("[substring(parameters('name'), 0, 3)]", "{substring(name, 0, 3)}"),
        ("[split(format('https://{0}.openai.azure.com/', parameters('name')), '/')[2]]", "{name}.openai.azure.com"),
        ("[reference(resourceId('Microsoft.Resources/deployments', 'apimModule'), '2025-04-01').outputs.name.value]",
         "{reference(apimModule).outputs.name.value}"),
        ("[listKeys(resourceId('Microsoft.CognitiveServices/accounts', parameters('name')), '2023-05-01').key1]",
         "{redacted: listKeys(name).key1}"),
        ("[if(empty(parameters('name')), concat('gen-', uniqueString('x')), parameters('name'))]", "{name}"),
        ("[utcNow()]", "{utcNow()}"),
        ("[noSuchFunction(parameters('a'))]", "{noSuchFunction(a)}"),
    ],
)
def test_unknown_parts_are_typed_placeholders_around_known_text(expression, shown):
    value = EV.value(expression)
    assert isinstance(value, (Unknown, Text)) and EV.string(expression) == shown
    assert "[" not in shown and "'" not in shown  # never a raw expression fragment


def test_unknown_values_keep_their_type_and_secrets_stay_secret():
    assert EV.value("[equals(parameters('name'), 'x')]") == Unknown("equals(name, x)")
    assert EV.value("[startsWith(format('https://{0}', parameters('name')), 'HTTPS://')]") is True
    assert EV.value("[contains(format('https://{0}.openai.azure.com', parameters('name')), 'openai.azure.com')]") is True
    assert EV.value("[empty(format('x{0}', parameters('name')))]") is False
    obj = EV.value("[createObject('url', parameters('name'), 'n', 1)]")
    assert obj == {"url": Unknown("name"), "n": 1} and render(obj) == {"url": "{name}", "n": 1}
    key = EV.value("[listSecrets(parameters('name'), '2020-01-01').value]")
    assert isinstance(key, Unknown) and key.secret


def test_bad_expressions_do_not_raise():
    for bad in ("[concat('unclosed'", "[concat(,)]", "[parameters('a').]", "[range(0, 100000000)]", "[div(1, 0)]",
                "[substring('abc', 2, 5)]", "[format('{3}', 'a')]", "[json('{')]", "[" + "concat(" * 200 + "]"):
        assert isinstance(EV.string(bad), str)


# ----------------------------------------------------------------------------------- whole templates


def test_partial_template_keeps_known_text_and_classifies_every_api(registry):
    result = audit("tests/fixtures/arm/partial.json", registry)
    estate = result.ctx.estate
    (svc,) = estate.services
    assert svc.name == "{apimName}"  # the module output passed through createObject('value', ...)
    assert [a.name for a in svc.apis] == ["chat", "embeddings", "routed", "via-named-value"]  # `unused`: condition false
    chat = next(a for a in svc.apis if a.name == "chat")
    assert chat.path == "openai" and chat.display_name == "Chat {uniqueString(resourceGroup().id)}"  # object variable
    # replace(parameters('policyXml'), '{backend-id}', if(greater(length(...), 1), ...)) kept the policy, at its line
    node = next(n for n in chat.policy.document.sections["inbound"].iter() if n.tag == "set-backend-service")
    assert node.get("backend-id") == "aoai-pool" and chat.policy.origin.line == 12
    backends = {b.name: b for b in svc.backends}
    assert backends["aoai-a"].url == "https://aoai-a-{uniqueString(resourceGroup().id)}.openai.azure.com/openai"
    assert [m.rsplit("/", 1)[-1] for m in backends["aoai-pool"].pool_members] == ["aoai-a", "aoai-b"]
    assert {a.kind for a in estate.accounts} == {"OpenAI"}  # the speech account is not an LLM account
    nv = {n.name: n for n in svc.named_values}
    assert nv["aoai-endpoint"].value == "https://aoai-b-{uniqueString(resourceGroup().id)}.openai.azure.com/"
    assert "redacted" in (nv["aoai-key"].value or "")  # a listKeys() result never appears
    verdicts = {v.api.name: v.verdict for v in result.ctx.apis}
    assert all(v.is_llm for v in verdicts.values())
    assert "pool 'aoai-pool' member backend 'aoai-a'" in verdicts["chat"].reasons[0]
    assert "endpoint of account 'aoai-a-" in verdicts["chat"].reasons[0]
    assert "contoso-us.openai.azure.com" in verdicts["routed"].reasons[0]  # a literal in base-url="@(...)"
    assert "named value {{aoai-endpoint}}" in verdicts["via-named-value"].reasons[0]
    assert "{substring(" in next(a for a in svc.apis if a.name == "embeddings").service_url  # no `[...]` left
    assert not [f for f in result.findings if "failed and did not evaluate" in f.message]
    assert not [f for f in result.findings if f.rule_id in ("AU003", "AU002")]


def test_nested_outer_scope_reads_the_parent_parameters(tmp_path, registry):
    template = (ROOT / "tests/fixtures/arm/partial.json").read_text(encoding="utf-8")
    outer = template.replace('"expressionEvaluationOptions": { "scope": "inner" },', "").replace(
        '"template": {\n          "$schema"', '"template": {\n          "$comment": "outer", "$schema"').replace(
        "\"name\": \"[parameters('name')]\", \"location\": \"westeurope\"",
        "\"name\": \"[format('outer-{0}', parameters('suffix'))]\", \"location\": \"westeurope\"")
    path = tmp_path / "outer.json"
    path.write_text(outer, encoding="utf-8")
    names = {s.name for s in audit(str(path), registry).ctx.estate.services}
    assert "outer-{uniqueString(resourceGroup().id)}" in names  # `suffix` is the parent's parameter


# ----------------------------------------------------------------------------------- any expression


def _expressions():
    from hypothesis import strategies as st

    from aoai_audit.sources.arm.functions import FUNCTIONS, LAZY

    names = sorted(set(FUNCTIONS) | set(LAZY) | {"listKeys", "unknownThing"})
    leaf = (st.integers(-5, 5).map(str) | st.sampled_from(["'a'", "'{0}/x'", "''", "'https://h.openai.azure.com/'",
                                                          "true", "null", "parameters('name')", "parameters('n')",
                                                          "parameters('backends')", "variables('settings')",
                                                          "lambdaVariables('b')", "'b'"]))

    def extend(inner):
        call = st.tuples(st.sampled_from(names), st.lists(inner, max_size=4)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})")
        prop = st.tuples(inner, st.sampled_from([".name", "[0]", ".outputs.x.value", "['k']"])).map("".join)
        return call | prop

    return st.recursive(leaf, extend, max_leaves=12).map(lambda body: f"[{body}]")


def test_any_expression_evaluates_without_raising():
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=10_000 if os.environ.get("AOAI_AUDIT_HYPOTHESIS") == "long" else 300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_expressions())
    def run(expression):
        shown = EV.string(expression)
        assert isinstance(shown, str)
        render(EV.value(expression))  # plain data, whatever the value

    run()


def test_object_and_array_values_stay_data(tmp_path, registry):
    """`logs: "[variables('logs')]"` is a list of settings, not the text of one (never a Python repr)."""
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"account": {"type": "string"}, "workspaceId": {"type": "string"}},
        "variables": {"logs": [{"categoryGroup": "allLogs", "enabled": True}],
                      "metrics": "[createArray(createObject('category', 'AllMetrics', 'enabled', true()))]"},
        "resources": [
            {"type": "Microsoft.CognitiveServices/accounts", "apiVersion": "2024-10-01", "name": "[parameters('account')]",
             "kind": "OpenAI", "location": "eastus", "properties": {"customSubDomainName": "[parameters('account')]"}},
            {"type": "Microsoft.Insights/diagnosticSettings", "apiVersion": "2021-05-01-preview", "name": "to-law",
             "scope": "[format('Microsoft.CognitiveServices/accounts/{0}', parameters('account'))]",
             "properties": {"workspaceId": "[parameters('workspaceId')]", "logs": "[variables('logs')]",
                            "metrics": "[variables('metrics')]"}},
        ],
    }
    path = tmp_path / "diag.json"
    path.write_text(json.dumps(template, indent=2), encoding="utf-8")
    estate = audit(str(path), registry).ctx.estate
    (setting,) = estate.diagnostic_settings
    (account,) = estate.accounts
    assert setting.resource_id == account.resource_id  # the scope names the declared account
    assert [(s.category_group, s.enabled) for s in setting.logs] == [("allLogs", True)]
    assert [(s.category, s.enabled) for s in setting.metrics] == [("AllMetrics", True)]
    assert setting.workspace_id.endswith("{workspaceId}") and account.endpoint == "https://{account}.openai.azure.com/"


def test_cycles_depth_and_short_names_are_unknowns_and_gaps(tmp_path, registry):
    deep = "[" + "concat(" * 3000 + "'a'" + ")" * 3000 + "]"
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"p": {"type": "string", "defaultValue": "[parameters('p')]"}},  # refers to itself
        "variables": {"a": "[variables('b')]", "b": "[variables('a')]"},  # and to each other
        "resources": [
            {"type": "Microsoft.ApiManagement/service/apis", "apiVersion": "2024-05-01", "name": deep,
             "properties": {"serviceUrl": "[concat(variables('a'), parameters('p'))]"}},
            {"type": "Microsoft.ApiManagement/service/apis", "apiVersion": "2024-05-01",
             "name": "[format('{0}/x', parameters('p'))]",
             "properties": {"serviceUrl": "[reference(reference(reference('x').y).z).w]"}},
        ],
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    result = audit(str(path), registry)
    (api,) = [a for s in result.ctx.estate.services for a in s.apis]
    assert api.name == "x" and api.service_url == "{reference(reference(reference(x).y).z).w}"
    assert any("name has 1 segment(s)" in g.message for g in result.ctx.estate.gaps)
    assert not [f for f in result.findings if "failed and did not evaluate" in f.message]
