"""ARM date functions: the time of a deployment is not known before it, so each is an `Unknown`.
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-date
"""

from __future__ import annotations

from .common import Eager, unknown_call

EAGER: dict[str, Eager] = {
    "utcnow": unknown_call,
    "datetimeadd": unknown_call,
    "datetimefromepoch": unknown_call,
    "datetimetoepoch": unknown_call,
}
