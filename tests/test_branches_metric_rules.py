"""Token-metric rules TM002–TM010 past their first case: a second header, variable or metric in the same place, an
API with several operations followed by another API, a workspace API, asserted on what the finding names (issue 29)."""

from __future__ import annotations

from branch_estates import METRIC, api, audit_estate, estate_context, operation, run
from branch_policies import BACKEND, findings, line_of, policy

from aoai_audit.checks import (
    tm002_no_consumer_dimension,
    tm003_unrequired_header_dimension,
    tm004_legacy_policy_name,
    tm005_inconsistent_dimensions,
    tm006_too_many_dimensions,
    tm007_base_drops_metric,
    tm009_conditional_metric,
    tm010_unset_variable_dimension,
)
from aoai_audit.estate import Api, ApimService, Product, Workspace
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.resolve.effective import product_contexts


def _metric(*dims: str, namespace: str = "") -> str:
    ns = f' namespace="{namespace}"' if namespace else ""
    return f"<llm-emit-token-metric{ns}>{''.join(dims)}</llm-emit-token-metric>"


def _literal(*names: str) -> tuple[str, ...]:
    """Dimensions with a constant value: they name no caller."""
    return tuple(f'<dimension name="{n}" value="a" />' for n in names)


def _headers(*headers: str) -> str:
    """A `Team` dimension made of these request headers, each defaulting to empty."""
    reads = " + ".join(f"context.Request.Headers.GetValueOrDefault(&quot;{h}&quot;, &quot;&quot;)" for h in headers)
    return f'<dimension name="Team" value="@({reads})" />'


def _variables(*names: str) -> str:
    reads = " + ".join(f"(string)context.Variables[&quot;{n}&quot;]" for n in names)
    return f'<dimension name="Team" value="@({reads})" />'


# ---- TM002: a metric shared by an API's operations is reported once, and the next API is still judged ---------------
def test_tm002_a_metric_shared_by_two_operations_is_one_finding_and_the_next_api_is_judged():
    no_caller = _metric(*_literal("Region"))
    chat = api("chat", no_caller, display="Chat", operations=(operation("a", ""), operation("b", "")))
    got = run(tm002_no_consumer_dimension, chat, api("embed", no_caller))
    assert [(r, m.split(":")[0]) for r, m in got] == [("service/apim/apis/chat", "LLM API 'Chat'"),
                                                      ("service/apim/apis/embed", "LLM API 'embed'")]


def test_tm002_names_every_dimension_and_shows_the_metric_with_its_first_six():
    (f,) = audit_estate(tm002_no_consumer_dimension, api("chat", _metric(*_literal(*"ABCDEFG"))))
    assert "has dimensions A, B, C, D, E, F, G, none of which identifies the caller" in f.message
    assert [e.split(": ", 1)[1] for e in f.evidence] == ["<llm-emit-token-metric>"] + [
        f'<dimension name="{n}" value="a">' for n in "ABCDEF"]


# ---- TM003: the second header of one dimension, after one the gateway sets or requires ------------------------------
SET_TEAM = '<set-header name="x-team" exists-action="override"><value>@(context.Subscription.Id)</value></set-header>'
CHECK_TEAM = '<check-header name="x-team" failed-check-httpcode="400" failed-check-error-message="t" ignore-case="true" />'


def test_tm003_a_header_the_gateway_sets_does_not_hide_the_next_header_of_the_dimension():
    got = run(tm003_unrequired_header_dimension, api("chat", SET_TEAM + _metric(_headers("x-team", "x-unit"))))
    assert [m.split(";")[0] for _r, m in got] == [
        "LLM API 'chat': dimension 'Team' reads header 'x-unit', which no policy requires"]


def test_tm003_a_required_header_does_not_hide_the_next_header_of_the_dimension():
    got = run(tm003_unrequired_header_dimension, api("chat", CHECK_TEAM + _metric(_headers("x-team", "x-unit"))))
    assert [m.split(";")[0] for _r, m in got] == [
        "LLM API 'chat': dimension 'Team' reads header 'x-unit', which no policy requires"]


def test_tm003_names_the_api_by_its_display_name_else_its_name():
    got = run(tm003_unrequired_header_dimension, api("chat", METRIC, display="Chat API"), api("embed", METRIC))
    assert [(r, m.split(":")[0]) for r, m in got] == [("service/apim/apis/chat", "LLM API 'Chat API'"),
                                                      ("service/apim/apis/embed", "LLM API 'embed'")]


# ---- TM004: a policy that did not parse does not stop the scan of the others ----------------------------------------
def test_tm004_legacy_metric_after_an_unparsed_policy_is_still_found():
    broken = Api("broken", policy=read_policy("<policies><inbound>", scope="api"))
    legacy = api("chat", '<azure-openai-emit-token-metric><dimension name="Subscription ID" />'
                         "</azure-openai-emit-token-metric>")
    assert run(tm004_legacy_policy_name, broken, legacy) == [
        ("service/apim/apis/chat",
         "uses the legacy <azure-openai-emit-token-metric>; rename it to <llm-emit-token-metric>")]


# ---- TM006: the second metric of an inbound, and an operation's own metric after an inherited one -------------------
def test_tm006_second_metric_of_one_inbound_over_the_limit_fires_after_one_within_it():
    got = run(tm006_too_many_dimensions, api("chat", _metric(*_literal(*"ABCDE")) + _metric(*_literal(*"PQRSTU"))))
    assert [m.split(";")[0] for _r, m in got] == ["token metric has 6 dimensions (P, Q, R, S, T, U)"]


def test_tm006_an_operations_own_metric_after_the_inherited_one_is_counted():
    own = _metric(*_literal("Subscription ID", "API ID", "A", "B", "C", "D"), namespace="per-op")
    chat = api("chat", _metric(*_literal("Subscription ID")), operations=(operation("a", ""), operation("b", own)))
    got = run(tm006_too_many_dimensions, chat)
    assert [m.split(";")[0] for _r, m in got] == [
        "token metric has 6 dimensions (Subscription ID, API ID, A, B, C, D), 2 of them default dimensions"]


# ---- TM009: a conditional metric after an unconditional one, and the branch it sits in ------------------------------
def test_tm009_conditional_metric_after_an_unconditional_one_names_its_branch():
    big = '@(context.Request.Headers.ContainsKey(&quot;x-big&quot;))'
    inbound = (_metric('<dimension name="Subscription ID" />', namespace="all")
               + f'<choose><when condition="{big}">'
               + _metric('<dimension name="Subscription ID" />', namespace="big") + "</when></choose>")
    (f,) = audit_estate(tm009_conditional_metric, api("chat", inbound, display="Chat"))
    assert f.message == ('LLM API \'Chat\': the token metric runs only when '
                         '@(context.Request.Headers.ContainsKey("x-big")); other calls are not metered')
    assert [e.split(": ", 1)[1] for e in f.evidence] == [
        '<when condition="@(context.Request.Headers.ContainsKey("x-big"))">', '<llm-emit-token-metric namespace="big">']


# ---- TM010: the second variable of one dimension, after one that is set ---------------------------------------------
def test_tm010_a_set_variable_does_not_hide_the_next_variable_of_the_dimension():
    inbound = '<set-variable name="team" value="a" />' + _metric(_variables("team", "unit"))
    got = run(tm010_unset_variable_dimension, api("chat", inbound))
    assert [m.split(",")[0] for _r, m in got] == [
        "LLM API 'chat': dimension 'Team' reads variable 'unit'"]


def test_tm010_names_the_api_by_its_display_name_else_its_name():
    unset = _metric(_variables("team"))
    got = run(tm010_unset_variable_dimension, api("chat", unset, display="Chat API"), api("embed", unset))
    assert [(r, m.split(":")[0]) for r, m in got] == [("service/apim/apis/chat", "LLM API 'Chat API'"),
                                                      ("service/apim/apis/embed", "LLM API 'embed'")]


# ---- TM005: a three-letter stem, and where the namespace finding points ---------------------------------------------
def test_tm005_a_three_letter_stem_with_an_id_suffix_is_the_same_dimension():
    got = run(tm005_inconsistent_dimensions, api("a", _metric(_headers("x-app").replace("Team", "App"))),
              api("b", _metric(_headers("x-app").replace("Team", "AppId"))))
    assert got == [("estate", "one dimension is spelled 2 ways: 'App' in a; 'AppId' in b")]


def test_tm005_namespace_finding_points_at_the_first_metric(tmp_path, registry):
    sub = '<dimension name="Subscription ID" />'
    first = policy(tmp_path, _metric(sub, namespace="llm"), name="api-a")
    policy(tmp_path, _metric(sub), name="api-b")
    (f,) = findings(tmp_path, registry, "TM005")
    assert f.message == "token metrics are emitted into 2 namespaces: 'API Management' in api-b; 'llm' in api-a"
    assert (f.location.path, f.location.line) == (str(first), line_of(first, "<llm-emit-token-metric"))


# ---- TM007: what was lost, only a metric, and a workspace API named as such -----------------------------------------
def test_tm007_names_the_lost_metric_and_where_it_was_defined():
    (f,) = audit_estate(tm007_base_drops_metric, api("chat", METRIC, display="Chat", base=False),
                        global_inbound=_metric('<dimension name="Subscription ID" />', namespace="llm"))
    assert f.resource == "service/apim/apis/chat"
    assert f.evidence[0].endswith(": <llm-emit-token-metric> at global")
    assert "defined at global" in f.message and f.message.endswith("never runs for LLM API 'Chat'")


def test_tm007_an_outer_scope_without_a_metric_loses_nothing():
    header = '<set-header name="x-region" exists-action="override"><value>eu</value></set-header>'
    assert audit_estate(tm007_base_drops_metric, api("chat", METRIC, base=False), global_inbound=header) == []


def test_tm007_a_workspace_api_that_drops_base_is_named_in_its_workspace():
    (f,) = audit_estate(tm007_base_drops_metric, api("chat", "", workspace="team-a", base=False),
                        global_inbound=METRIC)
    assert f.resource == "service/apim/workspaces/team-a/apis/chat"
    assert "the inbound section of api 'chat' has no <base/>" in f.message


# ---- the audit keeps two failing metrics of one scope apart by their namespaces (TM002, TM006, TM009) --------------
def test_tm002_two_metrics_of_one_scope_without_a_caller_are_two_findings_of_the_audit(tmp_path, registry):
    path = policy(tmp_path, _metric(*_literal("Region"), namespace="by-region") + "\n"
                  + _metric(*_literal("Model"), namespace="by-model"))
    got = findings(path, registry, "TM002")
    assert sorted((f.message.split("(")[1].split(")")[0], f.location.line) for f in got) == [
        ("namespace 'by-model'", line_of(path, "by-model")), ("namespace 'by-region'", line_of(path, "by-region"))]


def test_tm006_two_metrics_of_one_scope_over_the_limit_are_two_findings_of_the_audit(tmp_path, registry):
    path = policy(tmp_path, _metric(*_literal(*"ABCDEF"), namespace="one") + "\n"
                  + _metric(*_literal(*"PQRSTU"), namespace="two"))
    got = findings(path, registry, "TM006")
    assert sorted((f.message.split(";")[0], f.location.line) for f in got) == [
        ("token metric has 6 dimensions (A, B, C, D, E, F)", line_of(path, '"one"')),
        ("token metric has 6 dimensions (P, Q, R, S, T, U)", line_of(path, '"two"'))]


def test_tm009_two_conditional_metrics_of_one_scope_are_two_findings_of_the_audit(tmp_path, registry):
    def branch(header: str, namespace: str) -> str:
        metric = _metric('<dimension name="Subscription ID" />', namespace=namespace)
        return f'<choose><when condition="@(context.Request.Headers.ContainsKey(&quot;{header}&quot;))">{metric}' \
               "</when></choose>"

    path = policy(tmp_path, branch("x-big", "big") + "\n" + branch("x-small", "small"))
    got = findings(path, registry, "TM009")
    assert sorted((f.message.split("when ")[1].split(";")[0], f.location.line) for f in got) == [
        ('@(context.Request.Headers.ContainsKey("x-big"))', line_of(path, '"big"')),
        ('@(context.Request.Headers.ContainsKey("x-small"))', line_of(path, '"small"'))]


# ---- products reach only the APIs of their own workspace ------------------------------------------------------------
def _gold(workspace: str | None) -> Product:
    return Product("gold", apis=("chat",), workspace=workspace,
                   policy=read_policy("<policies><inbound></inbound></policies>", scope="product",
                                      label=f"product 'gold' ({workspace})"))


def test_a_workspace_api_is_called_through_its_own_workspaces_products_only():
    products = (_gold(None), _gold("a"), _gold("b"))
    service = ApimService("apim", products=products, workspaces=(Workspace("a"), Workspace("b")))
    contexts = {w: product_contexts(service, api("chat", "", workspace=w)) for w in (None, "a", "b")}
    assert {w: [p.workspace for p in found] for w, found in contexts.items()} == {None: [None], "a": ["a"], "b": ["b"]}


def test_tm007_each_workspaces_product_that_drops_base_is_named_in_its_workspace():
    ctx = estate_context(api("chat", "", workspace="a"), api("chat", "", workspace="b"), global_inbound=METRIC,
                         products=(_gold("a"), _gold("b")))
    assert sorted(f.resource for f in tm007_base_drops_metric.check(ctx)) == [
        "service/apim/workspaces/a/products/gold", "service/apim/workspaces/b/products/gold"]
    assert [r for r, _p in ctx.policies() if "/products/" in r] == [
        "service/apim/workspaces/a/products/gold", "service/apim/workspaces/b/products/gold"]


def test_tm007_a_workspace_or_an_operation_that_drops_base_is_named_as_itself():
    ws = estate_context(api("chat", METRIC, workspace="team-a"), global_inbound=METRIC, workspace_inbound=BACKEND)
    assert [(f.resource, f.key) for f in tm007_base_drops_metric.check(ws)] == [
        ("service/apim/workspaces/team-a", "global")]
    chat = api("chat", METRIC, operations=(operation("embed", BACKEND, base=False),))
    assert [(f.resource, f.key) for f in audit_estate(tm007_base_drops_metric, chat)] == [
        ("service/apim/apis/chat/operations/embed", "api 'chat'")]
