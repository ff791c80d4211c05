"""Input rules branch by branch (issue 29): AU002 pointing at a file or at an Azure resource and reporting each
fragment include once, SEC001 on a policy that carries no scope label, OW001 on an account whose deployments all
lack an owner. Expected messages are written here from RULES.md and the estates built below."""

from __future__ import annotations

from dataclasses import replace

from test_branches_account_rules import RID

from aoai_audit.checks import au002_unparseable_input, ow001_no_owner, sec001_literal_secret
from aoai_audit.config import Settings
from aoai_audit.context import build_context
from aoai_audit.estate import AiAccount, Api, ApimService, Deployment, Estate
from aoai_audit.findings import Location
from aoai_audit.gaps import CollectionGap
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.policy.tree import Origin

AOAI = "https://a.openai.azure.com/openai"
POLICY_ID = ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/gw/apis/chat/policies/"
             "policy")


def findings(check, estate: Estate):
    return list(check.check(build_context(estate, Settings())))


def include(fragment: str, scope: str, path: str):
    return read_policy(f'<policies><inbound><base /><include-fragment fragment-id="{fragment}" /></inbound></policies>',
                       scope=scope, path=path)


# ---- AU002: a file is pointed at by path and line, an Azure resource by its id ---------------------------------------
def test_au002_a_file_gap_points_at_the_file_and_line_and_names_what_it_affects():
    gap = CollectionGap("unparseable", "apis/chat/policy.xml", "mismatched tag", line=7, resource="service/gw/apis/chat")
    (f,) = findings(au002_unparseable_input, Estate(gaps=(gap,)))
    assert (f.resource, f.message) == ("service/gw/apis/chat", "not audited: mismatched tag")
    assert f.location == Location("apis/chat/policy.xml", 7, None)


def test_au002_a_resource_gap_points_at_the_resource_id_and_is_named_by_it_when_nothing_else_is_known():
    gap = CollectionGap("unparseable", POLICY_ID, "the policy value is not XML", line=2)
    (f,) = findings(au002_unparseable_input, Estate(gaps=(gap,)))
    assert (f.resource, f.message) == (POLICY_ID, "not audited: the policy value is not XML")
    assert f.location == Location(None, 2, POLICY_ID)


def test_au002_reports_an_inherited_include_once_and_still_each_apis_own():
    """A global include of a missing fragment reaches every API: one finding; an API's own missing one: its own."""
    apis = (Api("chat", service_url=AOAI), Api("embed", service_url=AOAI, policy=include("own", "api", "embed.xml")))
    service = ApimService("gw", global_policy=include("shared", "global", "global.xml"), apis=apis)
    got = [(f.resource, f.message, f.location.path) for f in findings(au002_unparseable_input,
                                                                       Estate(services=(service,)))]
    assert got == [
        ("service/gw/apis/chat", "not audited: policy fragment 'shared' is included but not in the estate", "global.xml"),
        ("service/gw/apis/embed", "not audited: policy fragment 'own' is included but not in the estate", "embed.xml")]


# ---- SEC001: the finding says which policy, and "policy" where the source gave it no label ---------------------------
def test_sec001_a_policy_without_a_scope_label_is_called_policy():
    text = ('<policies><inbound><base /><set-header name="api-key" exists-action="override">'
            "<value>3f2a9c4e8b7d6a5f1e0d9c8b7a6f5e4d</value></set-header></inbound></policies>")
    labelled = read_policy(text, scope="api", path="chat.xml", label="api 'chat'")
    bare = replace(labelled, origin=Origin("chat.xml"))
    for policy, says in ((labelled, "api 'chat'"), (bare, "policy")):
        service = ApimService("gw", apis=(Api("chat", service_url=AOAI, policy=policy),))
        (f,) = findings(sec001_literal_secret, Estate(services=(service,)))
        assert f.message == (f"{says}: literal `api-key` header value written into the policy (shown redacted); "
                             "move it to a secret named value or Key Vault")
        assert f.evidence == ("chat.xml: ***redacted***",) and "3f2a9c4e" not in repr(f)


# ---- OW001: an account whose deployments all lack an owner is one finding, its reason given once --------------------
def test_ow001_one_finding_per_ownerless_account_with_the_reason_once():
    account = AiAccount(RID + "acc", "acc", "OpenAI", deployments=(Deployment("gpt-4o"), Deployment("mini")))
    (f,) = findings(ow001_no_owner, Estate(accounts=(account,)))
    assert f.resource == RID + "acc"
    assert f.message == ("account 'acc' (deployment(s) gpt-4o, mini): no owner is known (no owner tag, no cost-centre "
                         "map entry, no gateway in front), so its whole cost goes to no team")
    assert f.evidence == ("no owner tag, no cost-centre map entry and no gateway metering: its spend reaches no team",
                          "owner tags looked for: team, team-name, owner-team, cost-center, cost-centre, business-unit, "
                          "chargeback")
