"""aoai-audit: find the holes in per-team cost attribution for LLMs behind Azure API Management.

Data flows sources → estate → resolve → checks → findings → reports; see DESIGN in the README.
"""

__version__ = "0.1.0"
