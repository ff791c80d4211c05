"""An API as the checks see it: its resource path, where a fix for it goes, and that it is a value (issue 29)."""

from __future__ import annotations

import dataclasses

import pytest

from aoai_audit.estate import Api, ApimService
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.policy.tree import Origin
from aoai_audit.resolve.classify import LlmVerdict
from aoai_audit.resolve.views import ApiView, api_resource


def view(api: Api) -> ApiView:
    return ApiView(ApimService("apim"), api, LlmVerdict(True, ("r",)), (), ())


def test_the_resource_names_the_service_the_workspace_and_the_api():
    assert api_resource(ApimService("apim"), Api("chat")) == "service/apim/apis/chat"
    assert api_resource(ApimService("apim"), Api("chat", workspace="team-a")) == "service/apim/workspaces/team-a/apis/chat"
    v = view(Api("chat"))
    assert (v.resource, v.operation_resource("op"), v.operation_resource(None)) == (
        "service/apim/apis/chat", "service/apim/apis/chat/operations/op", "service/apim/apis/chat")


def test_a_fix_goes_to_the_apis_own_policy_else_where_the_api_is_declared():
    declared = Origin("apis/chat/apiInformation.json", 1)
    policy = read_policy("<policies><inbound /></policies>", scope="api", label="api 'chat'")
    assert view(Api("chat", policy=policy, origin=declared)).policy_origin == policy.origin
    assert view(Api("chat", origin=declared)).policy_origin == declared


def test_a_view_is_a_value_the_checks_share():
    v = view(Api("chat"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.issues = ()  # type: ignore[misc]
