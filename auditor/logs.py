"""Logging for `--log-level`: every record passes through the secret redactor before it is written.

The tool itself logs no policy text or values, but the Azure SDKs log requests at debug level; the filter
keeps tokens, client secrets and connection-string keys out of the log whatever the source.
"""

from __future__ import annotations

import logging
import os
import re

from .policy.secrets import REDACTED, redact

_EXTRA = (
    re.compile(r"(?i)(client_secret|client_assertion|refresh_token|access_token|assertion)(=|\"?\s*:\s*\")([^&\"\s]+)"),
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)([^'\"\s,}]+(?:\s+[^'\"\s,}]+)?)"),
)
ENV_SECRETS = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD")


def redact_log_text(text: str) -> str:
    text = redact(text, tuple(v for k in ENV_SECRETS if (v := os.environ.get(k))))
    text = _EXTRA[0].sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    return _EXTRA[1].sub(lambda m: f"{m[1]}{REDACTED}", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format: keep the bare template
            message = str(record.msg)
        record.msg, record.args = redact_log_text(message), ()
        return True


def configure(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("aoai-audit %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper()))
