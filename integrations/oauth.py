"""OAuth 2.0 sign-in (authorization code) from a connection's page, and what the page says about it.

A connector that declares ``Connector.oauth`` (an ``OAuth`` spec) gets "Connect to <tool>" on its
connection's page (and "Re-authorise" once the tool refuses the tokens):

1. ``start`` builds the tool's consent page address: the app's client id (a secret of the
   connection), our callback as ``redirect_uri``, the scopes, and a ``state``: signed (Django
   signing, salted, valid ``STATE_MAX_AGE`` seconds) and naming the connection and a nonce that
   is kept in the user's session with the redirect URI. A state is good once, in the session
   that started it, for the connection it names.
2. The tool sends the browser back to ``/integrations/oauth/callback/`` with ``code`` and
   ``state`` (or ``error``). ``finish`` checks the state, then trades the code for tokens
   (``Connector.exchange_code``) and stores them encrypted with their expiry and the refresh
   token's, ending any "needs re-authorisation": the connection is active again (a paused one
   stays paused). Any failure (a state that does not match, consent denied, the token endpoint
   refusing) raises ``SignInRefused`` with a message for the person, and changes nothing.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx
from django.core import signing
from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError

from erp.exceptions import DomainError
from integrations import registry
from integrations.contract import Connector, TokenGrant
from integrations.errors import HubError
from integrations.models import Connection, ConnectionStatus
from integrations.tokens import scrub

STATE_SALT = "integrations.oauth.state"
STATE_MAX_AGE = 600  # seconds a person has on the tool's consent page
SESSION_KEY = "integrations_oauth"
PENDING_MAX = 5  # sign-ins a session may have under way at once
REAUTH_WARNING_DAYS = 14  # the page and health warn this long before the refresh token runs out


class SignInRefused(DomainError):
    """The sign-in did not complete; nothing changed. ``connection``: the one it was for, when known."""

    title = "The sign-in did not complete"

    def __init__(self, message: str, *, connection: Connection | None = None) -> None:
        super().__init__(message)
        self.connection = connection


def _connector(connection: Connection) -> Connector:
    try:
        return registry.connector_for(connection)
    except registry.UnknownConnector as exc:
        raise SignInRefused(str(exc), connection=connection) from None


def start(*, connection: Connection, session: MutableMapping[str, Any], redirect_uri: str) -> str:
    """The address of the tool's consent page for this connection, its state bound to ``session``."""
    connector = _connector(connection)
    spec = connector.oauth
    if spec is None:
        raise SignInRefused(
            f"{connector.name} has no sign-in: enter its secrets in Settings.", connection=connection
        )
    client_id, client_secret = spec.client(connection.get_secrets())
    if not client_id or not client_secret:
        raise SignInRefused(
            f"Enter the app's {spec.client_id_secret.replace('_', ' ')} and "
            f"{spec.client_secret_secret.replace('_', ' ')} in Settings first: {connector.name} asks "
            "for them to sign in.",
            connection=connection,
        )
    nonce = secrets.token_urlsafe(16)
    pending = dict(session.get(SESSION_KEY) or {})
    while len(pending) >= PENDING_MAX:
        pending.pop(next(iter(pending)))
    pending[nonce] = {"c": connection.pk, "r": redirect_uri}
    session[SESSION_KEY] = pending
    state = signing.dumps({"c": connection.pk, "n": nonce}, salt=STATE_SALT, compress=True)
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": spec.scope_separator.join(spec.scopes),
        "state": state,
        **dict(spec.extra_params),
    }
    return str(httpx.URL(connector.authorize_url()).copy_merge_params(params))


def finish(*, session: MutableMapping[str, Any], params: Mapping[str, str], user: Any = None) -> Connection:
    """Check the tool's answer (the callback's query), trade the code for tokens and store them."""
    state = params.get("state", "")
    try:
        payload = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired:
        raise SignInRefused(
            f"The sign-in took longer than {STATE_MAX_AGE // 60} minutes, so it was not accepted. "
            "Nothing changed: start it again."
        ) from None
    except signing.BadSignature:
        raise SignInRefused(
            "The sign-in could not be verified: its state is missing or does not match. Nothing changed."
        ) from None
    nonce, pk = (payload.get("n"), payload.get("c")) if isinstance(payload, dict) else (None, None)
    pending = dict(session.get(SESSION_KEY) or {})
    entry = pending.pop(str(nonce), None)
    session[SESSION_KEY] = pending  # a state is good once
    connection = Connection.objects.filter(pk=pk).first() if isinstance(pk, int) else None
    if entry is None or connection is None or entry.get("c") != connection.pk:
        raise SignInRefused(
            "The sign-in could not be verified: it was not started in this browser session (or was "
            "used already). Nothing changed: start it again from the connection's page.",
            connection=connection,
        )
    connector = _connector(connection)
    if params.get("error"):
        why = params.get("error_description") or params["error"]
        raise SignInRefused(
            f"{connector.name} did not grant access ({why}). Nothing changed.", connection=connection
        )
    code = params.get("code", "")
    if not code:
        raise SignInRefused(
            f"{connector.name} sent no authorisation code back. Nothing changed.", connection=connection
        )
    try:
        grant = connector.exchange_code(code, str(entry["r"]), dict(params))
    except (HubError, ValueError, KeyError) as exc:
        scrub(getattr(connector.http, "last_log", None), [code])
        message = getattr(exc, "message", None) or str(exc)
        raise SignInRefused(
            f"{connector.name} refused to give tokens for the sign-in: {message} Nothing changed.",
            connection=connection,
        ) from exc
    if grant.settings:
        try:
            type(connector).settings_schema.model_validate({**connection.settings, **dict(grant.settings)})
        except ValidationError as exc:
            raise SignInRefused(
                f"{connector.name} signed in, but named settings the connection cannot take "
                f"({exc.errors()[0]['msg']}). Nothing changed.",
                connection=connection,
            ) from exc
    store(connection=connection, grant=grant, user=user)
    scrub(getattr(connector.http, "last_log", None), [code, *grant.secrets.values()])
    return connection


@transaction.atomic
def store(*, connection: Connection, grant: TokenGrant, user: Any = None) -> Connection:
    """The tokens of a sign-in, encrypted, with their expiry; the connection is active again."""
    row = Connection.objects.select_for_update().get(pk=connection.pk)
    row.set_secrets({**row.get_secrets(), **dict(grant.secrets)})
    if grant.settings:  # checked against the connector's schema by finish()
        row.settings = {**row.settings, **dict(grant.settings)}
    row.token_expires_at = grant.expires_at
    row.refresh_expires_at = grant.refresh_expires_at
    row.refreshing_until = None
    row.last_error = ""
    if row.status != ConnectionStatus.PAUSED:
        row.status = ConnectionStatus.ACTIVE
    row.updated_by = user if getattr(user, "pk", None) else None
    row.save(
        update_fields=[
            "secrets_encrypted",
            "settings",
            "token_expires_at",
            "refresh_expires_at",
            "refreshing_until",
            "last_error",
            "status",
            "updated_by",
            "updated_at",
        ]
    )
    for name in (
        "secrets_encrypted",
        "settings",
        "token_expires_at",
        "refresh_expires_at",
        "status",
        "last_error",
    ):
        setattr(connection, name, getattr(row, name))
    return row


# --- what the connection's page shows ---------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    tool: str
    signed_in: bool  # tokens are stored
    refresh_expires_at: datetime.datetime | None
    days_left: int | None  # whole days before the refresh token runs out (None: not known)
    redirect_uri: str

    @property
    def reauth_due(self) -> bool:
        return self.days_left is not None and self.days_left <= REAUTH_WARNING_DAYS

    @property
    def reauth_text(self) -> str:
        """Say "re-authorise within 12 days", or nothing when the end is not known."""
        return reauth_text(self.refresh_expires_at)


def reauth_text(expires: datetime.datetime | None, moment: datetime.datetime | None = None) -> str:
    if expires is None:
        return ""
    left = expires - (moment or timezone.now())
    if left.total_seconds() <= 0:
        return f"the sign-in ran out on {expires:%Y-%m-%d}: re-authorise"
    days = int(left.total_seconds() // 86400)
    if days < 1:
        return "re-authorise today"
    return f"re-authorise within {days} day{'s' if days != 1 else ''}"


def days_left(expires: datetime.datetime | None, moment: datetime.datetime | None = None) -> int | None:
    if expires is None:
        return None
    return max(0, int((expires - (moment or timezone.now())).total_seconds() // 86400))


def page_info(connection: Connection, redirect_uri: str) -> SignIn | None:
    """The sign-in part of a connection's page; None when its connector has no OAuth sign-in."""
    try:
        cls = registry.get(connection.connector)
    except registry.UnknownConnector:
        return None
    spec = cls.oauth
    if spec is None:
        return None
    stored = connection.get_secrets()
    return SignIn(
        tool=cls.name,
        signed_in=bool(stored.get("access_token") or stored.get("refresh_token")),
        refresh_expires_at=connection.refresh_expires_at,
        days_left=days_left(connection.refresh_expires_at),
        redirect_uri=redirect_uri,
    )
