"""Built-in rules: one module per rule, each with its `RULE` metadata beside its `check` function.

They are registered through the `aoai_audit.checks` entry-point group, like any third-party rule.
"""
