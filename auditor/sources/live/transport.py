"""One HTTP connection pool for every SDK client of a live run, sized for the requests the run keeps in flight.

Each Azure SDK client otherwise owns a `requests` session whose pool keeps 10 connections per host: a run with
more requests in flight than that opens a new TLS connection for each extra request and throws it away after
(a handshake each, on both ends). And `requests` reads the environment (proxy variables, CA bundle, netrc) again
for every request, scanning all of `os.environ` twice per call: about a fifth of the collector's CPU per read.
The environment is read here once per origin for the run instead; what it says is unchanged. The session goes
to the SDK's own `RequestsTransport`, so the pipeline (credential, retries, policies) is the SDK's.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

# The most one response body may hold, decompressed. Ours: an ARM list page, a policy or a Log Analytics result
# aggregated on the server is megabytes; a 300 MB page took 1.4 GB and is no answer the audit can use.
MAX_BODY = 64 * 2**20
_CHUNK = 1 << 16


class ResponseTooLarge(Exception):
    """A body past MAX_BODY. Not an AzureError, so the pipeline's retry policy does not ask for the same page
    again: the read that wanted it fails once and becomes an AU001 naming the resource (session.read)."""


def shared_transport(pool_size: int, **connection: Any) -> Any:
    """A RequestsTransport over one session that every client of the run shares; close it after the run.
    `connection`: the clients' keyword arguments, for the transport's own (connection_verify, read_timeout...)."""
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from azure.core.pipeline.transport._requests_basic import BiggerBlockSizeHTTPAdapter
    from urllib3 import Retry

    class _EnvOnceSession(requests.Session):
        """requests' merge of the environment (proxies for the host, REQUESTS_CA_BUNDLE), kept per origin."""

        def __init__(self) -> None:
            super().__init__()
            self._env: dict[tuple, dict[str, Any]] = {}
            self._env_lock = threading.Lock()

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            u = urlsplit(url)
            # proxies depend on scheme and host only (no_proxy matches hosts), the rest on the arguments
            key = (u.scheme, u.netloc, tuple(sorted((proxies or {}).items())), stream, verify, cert)
            with self._env_lock:
                settings = self._env.get(key)
            if settings is None:
                settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
                with self._env_lock:
                    self._env[key] = settings
            return {**settings, "proxies": dict(settings["proxies"])}

        def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
            """Every body streamed and read to MAX_BODY at most, then handed on as if read whole."""
            streamed = kwargs.get("stream", False)
            kwargs["stream"] = True
            response = super().send(request, **kwargs)
            if streamed and not response.is_redirect:
                return _bounded_stream(response, request.url)
            body = bytearray()
            for chunk in response.iter_content(_CHUNK):
                body += chunk
                if len(body) > MAX_BODY:
                    response.close()
                    raise ResponseTooLarge(f"response body over {MAX_BODY // 2**20} MiB from {_where(request.url)}; "
                                        "not read")
            response._content = bytes(body)
            response._content_consumed = True
            return response

    session = _EnvOnceSession()
    # what RequestsTransport._init_session mounts (the SDK's adapter, urllib3 retries off: the pipeline retries),
    # with a pool as large as the run's bound on requests in flight
    adapter = BiggerBlockSizeHTTPAdapter(max_retries=Retry(total=False, redirect=False, raise_on_status=False),
                                         pool_maxsize=max(10, pool_size))
    for scheme in ("http://", "https://"):
        session.mount(scheme, adapter)
    return RequestsTransport(session=session, session_owner=False, **connection)



def _where(url: str) -> str:
    """The URL without its query (a SAS or a skip token is no part of a message)."""
    u = urlsplit(url)
    return f"{u.scheme}://{u.netloc}{u.path}"


def _bounded_stream(response: Any, url: str) -> Any:
    """A response the caller reads as a stream: its raw reader stops past MAX_BODY too."""
    raw = response.raw
    read = raw.read
    seen = [0]

    def bounded(amt=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        data = read(amt, *args, **kwargs)
        seen[0] += len(data or b"")
        if seen[0] > MAX_BODY:
            response.close()
            raise ResponseTooLarge(f"response body over {MAX_BODY // 2**20} MiB from {_where(url)}; not read")
        return data

    raw.read = bounded
    return response
