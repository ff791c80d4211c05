"""RB rules on an estate written here: the workspace or resource named by its last id segment, RB004 per
assignment, and access that cannot be judged (a role definition that could not be read) (issue 29)."""

from __future__ import annotations

from aoai_audit.checks import (
    rb003_no_log_analytics_reader,
    rb004_reader_overprivileged,
    rb005_reader_scope_too_narrow,
)
from aoai_audit.config import Settings
from aoai_audit.context import build_context
from aoai_audit.estate import AiAccount, DiagnosticSetting, Estate, RoleAssignment, SourceInfo
from aoai_audit.gaps import CollectionGap

SUB = "/subscriptions/s1"
RG = SUB + "/resourceGroups/rg"
ACC = RG + "/providers/Microsoft.CognitiveServices/accounts/aoai-eus"
OTHER = SUB + "/resourceGroups/other/providers/Microsoft.CognitiveServices/accounts/aoai-weu"
WS = SUB + "/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/la-prod"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"  # built-in Reader (RULES.md)
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"  # built-in Owner
ROLES = "/providers/Microsoft.Authorization/roleDefinitions/"
CARRIES = frozenset({"role-assignments", "diagnostic-settings", "ai-accounts", "apis"})


def run(check, *assignments: RoleAssignment, gaps=(), settings=()):
    estate = Estate(sources=(SourceInfo("live", "arm", CARRIES),), accounts=(AiAccount(ACC, "aoai-eus"),
                                                                             AiAccount(OTHER, "aoai-weu")),
                    role_assignments=assignments, reader_principal="p1", gaps=gaps, diagnostic_settings=settings)
    return [(f.resource, f.message) for f in check.check(build_context(estate, Settings()))]


def test_rb005_names_the_resource_outside_every_assignment_by_its_name():
    assert run(rb005_reader_scope_too_narrow, RoleAssignment(RG, SUB + ROLES + READER, "p1")) == [
        (OTHER, "aoai-weu is outside every role assignment of reader principal p1; its usage is missing from anything "
                "that principal produces")]


def test_rb003_names_the_workspace_the_principal_cannot_query():
    setting = DiagnosticSetting(ACC, "to-la", WS)
    assert run(rb003_no_log_analytics_reader, RoleAssignment(RG, SUB + ROLES + READER, "p1"), settings=(setting,)) == [
        (WS, "reader principal p1 cannot query Log Analytics workspace la-prod, where gateway or account logs are sent")]


def test_rb004_judges_every_assignment():
    got = run(rb004_reader_overprivileged, RoleAssignment(RG, SUB + ROLES + "00000000-0000-0000-0000-00000000abcd", "p1"),
              RoleAssignment(RG, SUB + ROLES + READER, "p1"), RoleAssignment(SUB, SUB + ROLES + OWNER, "p1"))
    assert got == [(SUB, "reader principal p1 holds 'Owner' at /subscriptions/s1, which can write resources and assign "
                         "roles; a reporting identity needs read access only")]


def test_a_role_that_could_not_be_read_leaves_the_access_unknown_and_nothing_is_said():
    custom = SUB + ROLES + "11111111-2222-3333-4444-555555555555"
    gap = CollectionGap("unreadable", custom, "403 reading the role definition", status=403)
    assert run(rb005_reader_scope_too_narrow, RoleAssignment(SUB, custom, "p1"), gaps=(gap,)) == []
    setting = DiagnosticSetting(ACC, "to-la", WS)
    assert run(rb003_no_log_analytics_reader, RoleAssignment(SUB, custom, "p1"), gaps=(gap,), settings=(setting,)) == []
    # the same role read, granting nothing: the principal cannot query the workspace, and that is said
    assert len(run(rb003_no_log_analytics_reader, RoleAssignment(SUB, custom, "p1"), settings=(setting,))) == 1
