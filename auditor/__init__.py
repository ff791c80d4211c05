"""aoai-audit: find the holes in per-team cost attribution for LLMs behind Azure API Management.

Data flows sources → estate → resolve → attribution model → checks → findings → reports, with usage as a phase
of its own; docs/architecture.md is the map (phases, rooms, the data between them), CONTRIBUTING.md the recipes.
"""

__version__ = "0.1.0"
