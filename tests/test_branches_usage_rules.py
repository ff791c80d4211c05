"""Usage rules branch by branch (issue 29): KQ003 listing at most seven days and saying which way the figures differ,
ST002 naming the operations that stream and stating a streamed share only from the API's own usage (its revisions
included). Every figure is arithmetic on the literals written in the test."""

from __future__ import annotations

import datetime as dt

from test_branches_usage import ON_ACC, gateway, kq003, platform

from aoai_audit.checks import st002_streamed_usage_estimated
from aoai_audit.config import Settings
from aoai_audit.context import build_context
from aoai_audit.estate import Api, ApimService, Estate, Operation, SourceInfo
from aoai_audit.policy.rawxml import read_policy
from aoai_audit.usage.model import UsageData, UsageRow


def _days(n: int) -> list[dt.date]:
    return [dt.date(2026, 11, d) for d in range(1, n + 1)]


def _short_by_100(days):
    """Each day: the platform 1,000 tokens, the gateway 900 (10% off, above the default 5%)."""
    return [r for d in days for r in (platform(d, "gpt-4o", 1_000, 0), gateway(d, "a", 900, 0, **ON_ACC))]


# ---- KQ003: the days the figures differ, seven at most ---------------------------------------------------------------
def test_kq003_lists_seven_days_in_full(registry):
    (f,) = kq003(registry, *_short_by_100(_days(7)))
    assert f.tokens == 700
    assert f.message == ("account 'acc': the platform reported 700 tokens more than the gateway metered on 7 day(s) "
                         "(2026-11-01, 2026-11-02, 2026-11-03, 2026-11-04, 2026-11-05, 2026-11-06, 2026-11-07)")


def test_kq003_lists_the_first_seven_of_eight_days_and_says_there_are_more(registry):
    (f,) = kq003(registry, *_short_by_100(_days(8)))
    assert f.tokens == 800 and len(f.evidence) == 8
    assert f.message == ("account 'acc': the platform reported 800 tokens more than the gateway metered on 8 day(s) "
                         "(2026-11-01, 2026-11-02, 2026-11-03, 2026-11-04, 2026-11-05, 2026-11-06, 2026-11-07 …)")


def test_kq003_days_that_cancel_out_name_no_direction(registry):
    """Day 1: the platform 1,000 above the gateway; day 2: 1,000 below it. Each day is off, the window nets to 0:
    neither "more than" nor "less than" is true."""
    d1, d2 = _days(2)
    (f,) = kq003(registry, platform(d1, "gpt-4o", 2_000, 0), gateway(d1, "a", 1_000, 0, **ON_ACC),
                 platform(d2, "gpt-4o", 1_000, 0), gateway(d2, "a", 2_000, 0, **ON_ACC))
    assert f.tokens == 0
    assert f.message == ("account 'acc': the platform and the gateway differ on 2 day(s) (2026-11-01, 2026-11-02), "
                         "in both directions, netting to the same total over them")
    assert f.evidence == ("2026-11-01: gateway 1,000, platform 2,000 (50.0%)",
                          "2026-11-02: gateway 2,000, platform 1,000 (50.0%)")


def test_kq003_a_net_difference_of_one_token_still_has_a_direction(registry):
    """Platform 10, gateway 9 (10% off): the smallest net difference is still 'more than', never 'both ways'."""
    (d1,) = _days(1)
    (f,) = kq003(registry, platform(d1, "gpt-4o", 10, 0), gateway(d1, "a", 9, 0, **ON_ACC))
    assert f.tokens == 1
    assert f.message == "account 'acc': the platform reported 1 tokens more than the gateway metered on 1 day(s) (2026-11-01)"


# ---- ST002: the operations named, and the streamed share from the API's own rows -------------------------------------
METERED = read_policy(
    '<policies><inbound><base /><llm-emit-token-metric><dimension name="Subscription ID" /></llm-emit-token-metric>'
    "</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>",
    scope="api", path="chat.xml", label="api 'chat'")
ADVICE = ("; ask for the usage chunk (stream_options.include_usage) only for callers on api-version 2024-09-01-preview "
          "or later (older ones reject it) and reconcile the estimate with the account's platform token metrics")
DAY = dt.date(2026, 11, 1)


def _completions(n: int) -> tuple[Operation, ...]:
    return tuple(Operation(f"op{i}", "POST", f"/deployments/d{i}/chat/completions", f"Chat {i}") for i in range(n))


def st002(api: Api, *rows: UsageRow) -> list[str]:
    usage = UsageData(rows=rows, window=(DAY, DAY), origin="u.csv") if rows else None
    estate = Estate(sources=(SourceInfo("apiops", "extract", frozenset({"apis", "policies"})),),
                    services=(ApimService("gw", apis=(api,)),), usage=usage)
    return [f.message for f in st002_streamed_usage_estimated.check(build_context(estate, Settings()))]


def _chat(name="chat", *, ops=1, **more) -> Api:
    return Api(name, display_name="Chat API", service_url="https://a.openai.azure.com/openai", policy=METERED,
               operations=_completions(ops), **more)


def test_st002_names_each_streaming_operation_up_to_five_then_counts_the_rest():
    one = "POST /deployments/d0/chat/completions (Chat 0)"
    assert st002(_chat()) == [
        f"LLM API 'Chat API': streamed calls to operation(s) {one} are metered by the gateway's estimate (token "
        f"metrics for stream: true requests are estimated){ADVICE}"]
    five = ", ".join(f"POST /deployments/d{i}/chat/completions (Chat {i})" for i in range(5))
    (msg,) = st002(_chat(ops=7))
    assert msg.startswith(f"LLM API 'Chat API': streamed calls to operation(s) {five} and 2 more are metered by ")


def test_st002_usage_of_other_apis_only_states_no_share():
    """Usage was given but none of it is this API's: no share is stated (unknown is not 0%)."""
    other = UsageRow(DAY, consumer="a", api="embeddings", total_tokens=5_000, streamed_tokens=5_000)
    (msg,) = st002(_chat(), other)
    assert "(token metrics for stream: true requests are estimated); ask for the usage chunk" in msg


def test_st002_a_revisions_share_is_of_its_apis_rows():
    """`chat;rev=2` is a revision of API `chat`: its usage rows are `chat`'s (the display name here differs)."""
    rows = (UsageRow(DAY, consumer="a", api="chat", total_tokens=800, streamed_tokens=200),
            UsageRow(DAY, consumer="b", api="other", total_tokens=1_000, streamed_tokens=1_000))
    (msg,) = st002(_chat("chat;rev=2", is_current=False, revision="2"), *rows)
    assert "estimated) (200 of its 800 gateway tokens in the window, 25.0%, were streamed); ask for" in msg
