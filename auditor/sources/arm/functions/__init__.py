"""ARM template functions by Microsoft's categories, one module each, gathered into the two tables the evaluator
reads: `FUNCTIONS` (eager: called with evaluated arguments) and `LAZY` (called with the evaluator and the call).
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions
"""

from __future__ import annotations

from . import array, comparison, date, deployment, lambdas, logical, numeric, object, resource, scope, string
from .common import Eager, Lazy

FUNCTIONS: dict[str, Eager] = {
    **string.EAGER, **comparison.EAGER, **logical.EAGER, **array.EAGER, **object.EAGER, **numeric.EAGER,
    **resource.EAGER, **date.EAGER,
}
LAZY: dict[str, Lazy] = {
    **logical.LAZY, **deployment.LAZY, **numeric.LAZY, **resource.LAZY, **scope.LAZY, **lambdas.LAZY,
}
