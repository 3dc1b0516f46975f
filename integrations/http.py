"""The hub's one HTTP client: every connector and every outbound webhook talks through it.

Two layers:

* ``send()`` is the core every request goes through, with or without a connection:
  it applies the timeouts, routes the request to a mounted test transport or the
  network, turns transport failures into ``TransientError`` and writes one
  ``RequestLog`` row with secrets redacted and bodies cut to an excerpt.
  ``check_status()`` and ``retry_after()`` give every caller the same reading of a
  status code and of ``Retry-After``.
* ``HubHttp`` binds the core to a connection and its connector: base URL and auth
  headers (only to the connector's declared hosts), the rate limits
  (``integrations.ratelimits``), the tool's rate-limit hints, 429 (not a failure:
  ``Throttled``), and the token refresh on 401 (``integrations.tokens``).

The request log and transactions. A log row is written in the caller's current
transaction, right after the exchange. The hub's own callers (delivery attempts,
polling) make requests outside any transaction, so each row commits at once and
survives whatever happens next. A caller that wraps requests in its own atomic
block and lets an error escape rolls its log back with its work; the error then
carries the row as ``exc.request_log`` and ``keep_request_log(exc)`` writes it
again after the rollback. We chose this over a second database connection for
the log (which would survive any rollback) because that connection would not see
the caller's uncommitted sync run or delivery rows the log points to, and would
double the connections each worker holds.

Tests route URLs to fakes with ``mount(prefix, transport)`` / ``mounted(...)``;
without a mount a request goes to the network.
"""

from __future__ import annotations

import datetime
import email.utils
import functools
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from django.conf import settings
from django.utils import timezone

from integrations import ratelimits, tokens
from integrations.errors import (
    HubError,
    PermanentError,
    Throttled,
    TransientError,
    UndeclaredHost,
)
from integrations.models import Connection, Delivery, RequestLog, SyncRun

if TYPE_CHECKING:
    from integrations.contract import Connector

REDACTED = "[redacted]"
ALWAYS_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
USER_AGENT = "erp-integration-hub/1"


def now() -> datetime.datetime:
    """The hub's clock (tests replace it, with ``sleep``, to drive the token bucket)."""
    return timezone.now()


def timeout() -> httpx.Timeout:
    """INTEGRATIONS_HTTP_TIMEOUT (read/write/pool, default 10 s), INTEGRATIONS_HTTP_CONNECT_TIMEOUT (5 s)."""
    return httpx.Timeout(
        float(settings.INTEGRATIONS_HTTP_TIMEOUT),
        connect=float(settings.INTEGRATIONS_HTTP_CONNECT_TIMEOUT),
    )


# --- transports: the network, or a fake mounted by a test ------------------------------------------

_mounts: dict[str, httpx.Client] = {}
_network: httpx.Client | None = None
_clients_lock = threading.Lock()


def mount(prefix: str, transport: httpx.BaseTransport) -> None:
    """Route every URL starting with ``prefix`` to ``transport`` (httpx.MockTransport, WSGITransport)."""
    with _clients_lock:
        old = _mounts.pop(prefix, None)
        _mounts[prefix] = httpx.Client(transport=transport, trust_env=False)
    if old is not None:
        old.close()


def unmount(prefix: str) -> None:
    with _clients_lock:
        client = _mounts.pop(prefix, None)
    if client is not None:
        client.close()


@contextmanager
def mounted(prefix: str, transport: httpx.BaseTransport) -> Iterator[None]:
    mount(prefix, transport)
    try:
        yield
    finally:
        unmount(prefix)


def _client_for(url: str) -> httpx.Client:
    global _network
    with _clients_lock:
        matches = [p for p in _mounts if url.startswith(p)]
        if matches:
            return _mounts[max(matches, key=len)]
        if _network is None:
            _network = httpx.Client(follow_redirects=False)
        return _network


# --- the core: one request, logged --------------------------------------------------------------


@dataclass(frozen=True)
class LogTarget:
    """What a request is tied to in the log."""

    connection_id: int | None = None
    sync_run_id: int | None = None
    delivery_id: int | None = None


@dataclass(frozen=True)
class Redactor:
    """Hides secret headers by name, and any secret value wherever it appears (headers, URL, bodies);
    and personal data (``Connector.personal_fields``): the values under those JSON keys in bodies,
    and the headers and query parameters of those names.

    ``personal`` None (a redactor built without naming them) hides the keys every connector
    declares: in a log, hiding too much is the safe side."""

    header_names: frozenset[str] = ALWAYS_SECRET_HEADERS
    values: tuple[str, ...] = ()
    personal: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        *,
        header_names: frozenset[str] = frozenset(),
        values: Any = (),
        personal_fields: Iterable[str] | None = None,
    ) -> Redactor:
        names = ALWAYS_SECRET_HEADERS | {n.lower() for n in header_names}
        # Longest first, so a secret containing another is hidden whole; tiny values would hide noise.
        clean = sorted({str(v) for v in values if isinstance(v, str | int) and len(str(v)) >= 4}, key=len)
        personal = None if personal_fields is None else frozenset(f.lower() for f in personal_fields)
        return cls(header_names=frozenset(names), values=tuple(reversed(clean)), personal=personal)

    @property
    def personal_keys(self) -> frozenset[str]:
        return self.personal if self.personal is not None else declared_personal_fields()

    def text(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        hidden = self.header_names | self.personal_keys
        return {
            name: REDACTED if name.lower() in hidden else self.text(value) for name, value in headers.items()
        }

    def personal_headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        """Only the personal part: what is stored with a webhook (secrets are never kept there)."""
        keys = self.personal_keys
        return {name: REDACTED if name.lower() in keys else value for name, value in headers.items()}

    def url(self, url: str) -> str:
        """Secret values, and the values of personal query parameters (``?email=…``)."""
        keys = self.personal_keys
        if keys and "?" in url:
            url = _personal_pattern(keys, QUERY_PATTERN).sub(rf"\g<1>{REDACTED}", url)
        return self.text(url)

    def body(self, content: bytes) -> bytes:
        """The values under personal keys hidden: a JSON body is read whole (up to
        PERSONAL_PARSE_BYTES) and written again only when something was hidden; anything else
        (another format, a body cut short) by pattern, for the string and number values."""
        keys = self.personal_keys
        if not keys or not content:
            return content
        lowered = content.lower()
        if not any(b'"' + key.encode() + b'"' in lowered or key.encode() + b"=" in lowered for key in keys):
            return content
        if len(content) <= PERSONAL_PARSE_BYTES:
            try:
                parsed = json.loads(content)
            except ValueError:
                pass
            else:
                redacted, changed = _redact_json(parsed, keys)
                if not changed:
                    return content
                return json.dumps(redacted, ensure_ascii=False, separators=(",", ":")).encode()
        text = content.decode("utf-8", errors="replace")
        text = _personal_pattern(keys, JSON_PATTERN).sub(rf'\g<1>"{REDACTED}"', text)
        text = _personal_pattern(keys, FORM_PATTERN).sub(rf"\g<1>{REDACTED}", text)
        return text.encode()


# Personal values: a JSON key's string or number value (a string cut short by the excerpt too), a
# form field's or query parameter's value.
JSON_PATTERN = r'("(?:{keys})"\s*:\s*)(?:"(?:[^"\\]|\\.)*(?:"|$)|-?\d[\d.eE+-]*)'
FORM_PATTERN = r"((?:^|&)(?:{keys})=)[^&\s]*"
QUERY_PATTERN = r"([?&](?:{keys})=)[^&#]*"
PERSONAL_PARSE_BYTES = 2 * 1024 * 1024


@functools.lru_cache(maxsize=64)
def _personal_pattern(keys: frozenset[str], pattern: str) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(pattern.format(keys=alternatives), re.IGNORECASE)


def _redact_json(value: Any, keys: frozenset[str]) -> tuple[Any, bool]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        changed = False
        for key, item in value.items():
            if str(key).lower() in keys and item not in (None, "", [], {}):
                out[key], changed = REDACTED, True
            else:
                out[key], inner = _redact_json(item, keys)
                changed = changed or inner
        return out, changed
    if isinstance(value, list):
        pairs = [_redact_json(item, keys) for item in value]
        return [v for v, _ in pairs], any(c for _, c in pairs)
    return value, False


def declared_personal_fields() -> frozenset[str]:
    """Every personal key any connector class declares (lower case)."""
    from integrations.contract import Connector

    keys: set[str] = set()
    pending: list[type[Any]] = [Connector]  # abstract: never instantiated here
    while pending:
        cls = pending.pop()
        keys.update(f.lower() for f in cls.personal_fields)
        pending.extend(cls.__subclasses__())
    return frozenset(keys)


def _excerpt(content: bytes, redactor: Redactor) -> str:
    limit = int(settings.INTEGRATIONS_LOG_BODY_BYTES)
    size = len(content)
    if b"\x00" in content[:limit]:  # a binary body (Amazon's gzipped report): no text to keep
        return f"({size} bytes, binary)"
    content = redactor.body(content)
    text = content[:limit].decode("utf-8", errors="replace")
    suffix = f"… ({size} bytes)" if len(content) > limit else ""
    return redactor.text(text) + suffix


@dataclass
class Exchange:
    response: httpx.Response
    log: RequestLog


def _write_log(
    target: LogTarget,
    redactor: Redactor,
    request: httpx.Request,
    started: float,
    response: httpx.Response | None = None,
    error: str = "",
) -> RequestLog:
    return RequestLog.objects.create(
        connection_id=target.connection_id,
        sync_run_id=target.sync_run_id,
        delivery_id=target.delivery_id,
        method=request.method,
        url=redactor.url(str(request.url))[:1000],
        status_code=response.status_code if response is not None else None,
        duration_ms=max(0, round((time.monotonic() - started) * 1000)),
        request_headers=redactor.headers(request.headers),
        request_body=_excerpt(request.content, redactor),
        response_headers=redactor.headers(response.headers) if response is not None else {},
        response_body=_excerpt(response.content, redactor) if response is not None else "",
        error=redactor.text(error)[:500],
    )


def send(
    method: str,
    url: str,
    *,
    target: LogTarget,
    redactor: Redactor | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    content: bytes | None = None,
    data: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_: httpx.Timeout | None = None,
) -> Exchange:
    """Send one request and log it. Returns whatever status came back.

    Raises TransientError on a timeout or a connection error, PermanentError on a URL
    that cannot be requested; the error carries the log row as ``request_log``.
    """
    redactor = redactor or Redactor.of()
    client = _client_for(url)
    request = client.build_request(
        method,
        url,
        params=dict(params) if params else None,
        json=json,
        content=content,
        data=dict(data) if data else None,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        timeout=timeout_ or timeout(),
    )
    started = time.monotonic()
    error: HubError
    try:
        response = client.send(request)
    except httpx.UnsupportedProtocol as exc:
        error = PermanentError(f"{method} {redactor.text(url)}: {exc}")
    except httpx.TimeoutException as exc:
        error = TransientError(f"{method} {redactor.text(url)} timed out ({type(exc).__name__}).")
    except (httpx.TransportError, OSError) as exc:
        error = TransientError(f"{method} {redactor.text(url)} failed: {type(exc).__name__}: {exc}")
    except Exception as exc:  # a transport's own failure: still logged, and worth another try
        error = TransientError(f"{method} {redactor.text(url)} failed: {type(exc).__name__}: {exc}")
    else:
        return Exchange(response, _write_log(target, redactor, request, started, response))
    raise carrying(error, _write_log(target, redactor, request, started, error=str(error)))


def carrying(error: HubError, log: RequestLog | None) -> HubError:
    """The error, with the log row of the request that failed (see keep_request_log)."""
    error.request_log = log
    return error


def keep_request_log(exc: BaseException) -> RequestLog | None:
    """Write again the log row an error carries, if a rollback took it away (see the module doc)."""
    log: RequestLog | None = getattr(exc, "request_log", None)
    if log is None or log.pk is None:
        return None
    if RequestLog.objects.filter(pk=log.pk).exists():
        return log
    log.pk = None
    if log.sync_run_id is not None and not SyncRun.objects.filter(pk=log.sync_run_id).exists():
        log.sync_run_id = None
    if log.delivery_id is not None and not Delivery.objects.filter(pk=log.delivery_id).exists():
        log.delivery_id = None
    if log.connection_id is not None and not Connection.objects.filter(pk=log.connection_id).exists():
        return None
    log.save(force_insert=True)
    return log


def retry_after(response: httpx.Response, default: float | None = None) -> float:
    """Seconds to wait from Retry-After (seconds or an HTTP date); ``default`` when absent or unreadable."""
    if default is None:
        default = float(settings.INTEGRATIONS_DEFAULT_RETRY_AFTER)
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - now()).total_seconds())


def check_status(response: httpx.Response, redactor: Redactor | None = None) -> None:
    """The hub's reading of a status: 2xx/3xx pass, 429 waits, 5xx retries, other 4xx are refused."""
    status = response.status_code
    if status < 400:
        return
    redactor = redactor or Redactor.of()
    where = f"{response.request.method} {redactor.text(str(response.request.url))}"
    body = _excerpt(response.content, redactor)
    if status == 429:
        wait = retry_after(response)
        raise Throttled(f"{where} answered 429; retry in {wait:.0f} s.", retry_after=wait)
    if status >= 500:
        raise TransientError(f"{where} answered {status}.")
    raise PermanentError(f"{where} answered {status}: {body[:300]}", status=status, body=body)


# --- HubHttp: the client bound to one connection -----------------------------------------------


class HubHttp:
    """The HTTP client a connector gets: ``request(method, url, ...)`` -> a 2xx/3xx httpx.Response.

    What a request may ask for besides the usual: ``data`` (a form-encoded body), ``auth`` (headers
    that replace the connection's credentials for this one request: Amazon's restricted-data
    token), ``credentials=False`` (no credentials at all: a pre-signed upload URL, which may be on
    a host the connector does not declare) and ``bucket`` (which of the connector's rate-limit
    buckets the request counts against)."""

    def __init__(
        self,
        connection: Connection,
        connector_cls: type[Connector],
        *,
        sync_run_id: int | None = None,
        delivery_id: int | None = None,
    ) -> None:
        self.connection = connection
        self.connector_cls = connector_cls
        self.target = LogTarget(connection.pk, sync_run_id, delivery_id)
        self.last_log: RequestLog | None = None
        self._connector: Connector | None = None
        self.limiter = ratelimits.Limiter(connection, connector_cls)
        self.tokens = tokens.TokenKeeper(self)

    @property
    def connector(self) -> Connector:
        if self._connector is None:
            self._connector = self.connector_cls(self.connection, self)
        return self._connector

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        data: Mapping[str, Any] | None = None,
        auth: Mapping[str, str] | None = None,
        credentials: bool = True,
        bucket: str | None = None,
    ) -> httpx.Response:
        self.last_log = None
        body = Body(params, json, content, data)
        try:
            return self._request(
                method, url, body, headers, auth=auth, credentials=credentials, bucket=bucket
            )
        except HubError as exc:
            if getattr(exc, "request_log", None) is None:
                carrying(exc, self.last_log)
            raise

    def _request(
        self,
        method: str,
        url: str,
        body: Body,
        headers: Mapping[str, str] | None,
        *,
        auth: Mapping[str, str] | None,
        credentials: bool,
        bucket: str | None,
    ) -> httpx.Response:
        full = url if url.startswith(("http://", "https://")) else self._join(url)
        if credentials:
            self._check_host(method, full)
        bucket = self.limiter.bucket_of(self.connector, method, full, bucket)
        own = credentials and auth is None  # the connection's own credentials go with it
        if own and self.tokens.expiring() and self.tokens.can_refresh():
            self.tokens.refresh(seen=self.tokens.state())
        seen = self.tokens.state()
        response = self._send(method, full, body, headers, self._auth(credentials, auth), bucket)
        if own and self.connector.token_rejected(response):
            status = response.status_code
            if self.tokens.refreshing or not self.tokens.refresh(seen=seen):
                self.tokens.needs_reauth(
                    f"{method} {full} answered {status} and the token cannot be refreshed."
                )
            response = self._send(method, full, body, headers, self._auth(credentials, auth), bucket)
            if self.connector.token_rejected(response):
                self.tokens.needs_reauth(
                    f"{method} {full} answered {response.status_code} again after a token refresh."
                )
        if response.status_code == 429:
            wait = retry_after(response)
            wait = self.limiter.throttle(wait, bucket)  # the longer of Retry-After and the tool's headers
            raise Throttled(f"{method} {full} answered 429; retry in {wait:.0f} s.", retry_after=wait)
        check_status(response, self._redactor())
        return response

    # --- sending ---------------------------------------------------------------------------------

    def _check_host(self, method: str, url: str) -> None:
        """Credentials go to the connector's declared hosts only: any other URL (one a tool or a
        payload gave) is refused before anything is sent."""
        host = (httpx.URL(url).host or "").lower()
        hosts = self.connector.hosts()
        if host not in hosts:
            raise UndeclaredHost(
                f"{method} {url}: {host or 'no host'} is not a host of {self.connector_cls.name} for "
                f"{self.connection.name} ({', '.join(sorted(hosts)) or 'none declared'}); nothing was sent.",
                status=None,
            )

    def _join(self, url: str) -> str:
        return f"{self.connector.base_url().rstrip('/')}/{url.lstrip('/')}"

    def _auth(self, credentials: bool, auth: Mapping[str, str] | None) -> dict[str, str]:
        if not credentials:
            return {}
        if auth is not None:
            return dict(auth)
        return self.connector.auth_headers(self.connection.get_secrets())

    def _redactor(self, auth: Mapping[str, str] | None = None) -> Redactor:
        secrets = self.connection.get_secrets()
        auth = auth if auth is not None else self.connector.auth_headers(secrets)
        return Redactor.of(
            header_names=frozenset(self.connector_cls.secret_header_names) | frozenset(auth),
            values=[*secrets.values(), *auth.values()],
            personal_fields=self.connector_cls.personal_fields,  # this tool's, not every tool's
        )

    def _send(
        self,
        method: str,
        url: str,
        body: Body,
        headers: Mapping[str, str] | None,
        auth: Mapping[str, str],
        bucket: str | None,
    ) -> httpx.Response:
        try:
            with self.limiter.turn(bucket):  # the rate, quota and slot of the bucket, around the exchange
                exchange = send(
                    method,
                    url,
                    target=self.target,
                    redactor=self._redactor(auth),
                    params=body.params,
                    json=body.json,
                    content=body.content,
                    data=body.data,
                    headers={**auth, **(headers or {})},
                )
        except HubError as exc:
            self.last_log = getattr(exc, "request_log", None)
            raise
        self.last_log = exchange.log
        hint = self.connector.rate_limit_hint(exchange.response)
        if hint is not None:
            self.limiter.heed(hint, bucket, refused=exchange.response.status_code == 429)
        return exchange.response


@dataclass(frozen=True)
class Body:
    """What a request carries besides its headers."""

    params: Mapping[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    data: Mapping[str, Any] | None = None
