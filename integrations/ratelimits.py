"""Rate limits: how fast, how many at once and how many a day the hub may talk to one connection's tool.

A connector declares named buckets (``Connector.rate_buckets``: ``Bucket(rate, burst,
concurrency=, daily=)``) and each request counts against one: the one it names (``bucket=``),
else ``Connector.bucket_for(method, url)``'s, else "default" (``rate_limit_per_second`` and
``rate_limit_burst``, unless ``rate_buckets`` declares "default" itself).

A turn (``Limiter.turn(bucket)``, around the exchange itself) is taken in one atomic step on that
bucket's state alone: the tool's "wait until" (a 429's Retry-After, or its rate-limit headers,
``Connector.rate_limit_hint``), the day's quota (spent: ``Throttled`` until midnight UTC), a token
(refilled at ``rate``, up to ``burst``) and, with a concurrency cap, a slot held until the exchange
ends (released in a ``finally``). A short wait is waited out in the process
(INTEGRATIONS_MAX_INLINE_WAIT_SECONDS); a longer one raises ``Throttled``, which is never counted
as a failure.

Where the state lives (INTEGRATIONS_RATE_LIMIT_BACKEND):

* "database" (the default): one ``RateBucket`` row per connection and bucket, created lazily and
  taken under that row's lock only. A slot is a count (``in_flight``); a crashed worker cannot hold
  one forever: when no turn was granted nor slot released on the bucket for
  INTEGRATIONS_RATE_LIMIT_LEASE_SECONDS (by default four times the HTTP timeouts, longer than any
  request may take), nothing can still be in flight and the count starts again from zero.
* "redis" (only with a redis:// CELERY_BROKER_URL): a hash per bucket and a sorted set of slot
  leases (each expiring on its own), changed by Lua scripts, so a turn is one round trip.

``Connection.throttled_until`` is kept as the summary the admin and health read: the latest wait
any of its buckets was told. A bucket's wait holds while that summary covers it, so clearing the
connection's wait (``throttled_until = None``) lifts every bucket's.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.contract import Bucket, RateLimitHint
from integrations.errors import Throttled, TransientError
from integrations.models import Connection, RateBucket

if TYPE_CHECKING:
    from integrations.contract import Connector

logger = logging.getLogger(__name__)

DEFAULT = "default"
# How often a request waiting for a slot looks again, and how long a Throttled for want of one asks.
SLOT_POLL_SECONDS = 0.25
SLOT_RETRY_SECONDS = 1.0
# How long an idle bucket's state is kept in Redis (a daily quota needs the day).
REDIS_TTL_SECONDS = 2 * 86400


def now() -> datetime.datetime:
    return timezone.now()


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def lease_seconds() -> float:
    configured = getattr(settings, "INTEGRATIONS_RATE_LIMIT_LEASE_SECONDS", None)
    if configured:
        return float(configured)
    return 4 * (float(settings.INTEGRATIONS_HTTP_TIMEOUT) + float(settings.INTEGRATIONS_HTTP_CONNECT_TIMEOUT))


def next_midnight(moment: datetime.datetime) -> datetime.datetime:
    day = moment.astimezone(datetime.UTC).date() + datetime.timedelta(days=1)
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)


# --- the decision, the same for every backend ----------------------------------------------------


@dataclass
class State:
    """A bucket's state, as one atomic step reads and writes it."""

    tokens: float = 0.0
    refilled_at: datetime.datetime | None = None  # None: never used, the bucket is full
    throttled_until: datetime.datetime | None = None
    in_flight: int = 0
    day: datetime.date | None = None
    used_today: int = 0


@dataclass(frozen=True)
class Decision:
    """A turn granted (``wait`` 0), or why not and how long to wait."""

    wait: float = 0.0
    reason: str = ""  # "throttled" (the tool said), "daily", "rate", "busy" (no slot free)
    until: datetime.datetime | None = None  # "throttled": the bucket's wait, as stored

    @property
    def granted(self) -> bool:
        return not self.reason


GRANTED = Decision()


def refill(state: State, spec: Bucket, moment: datetime.datetime) -> tuple[float, datetime.datetime]:
    """The tokens at ``moment`` and the stamp to keep with them (never moving back: a worker whose
    clock read came late gets no credit for time already counted)."""
    burst = float(max(1, spec.burst))
    if state.refilled_at is None:
        return burst, moment
    stamp = max(state.refilled_at, moment)
    elapsed = max(0.0, (moment - state.refilled_at).total_seconds())
    return min(burst, state.tokens + elapsed * max(0.0, spec.rate)), stamp


def decide(state: State, spec: Bucket, moment: datetime.datetime, lease: float) -> Decision:
    """Take a turn on ``state`` (changed in place when granted), or say how long to wait."""
    if state.throttled_until is not None and state.throttled_until > moment:
        return Decision((state.throttled_until - moment).total_seconds(), "throttled", state.throttled_until)
    today = moment.astimezone(datetime.UTC).date()
    used = state.used_today if state.day == today else 0
    if spec.daily is not None and used >= spec.daily:
        return Decision((next_midnight(moment) - moment).total_seconds(), "daily")
    tokens, stamp = refill(state, spec, moment)
    if spec.rate > 0 and tokens < 1:
        return Decision((1 - tokens) / spec.rate, "rate")
    in_flight = state.in_flight
    if spec.concurrency is not None:
        if state.refilled_at is None or (moment - state.refilled_at).total_seconds() > lease:
            in_flight = 0  # nothing granted nor released for a lease: whatever was counted is gone
        if in_flight >= spec.concurrency:
            return Decision(SLOT_POLL_SECONDS, "busy")
        in_flight += 1
    state.tokens = tokens - 1 if spec.rate > 0 else tokens
    state.refilled_at = stamp
    state.in_flight = in_flight
    state.day, state.used_today = today, used + 1
    return GRANTED


def release(state: State, spec: Bucket, moment: datetime.datetime) -> None:
    """Give a slot back (and keep the refill where it is: counting it now changes nothing)."""
    state.tokens, state.refilled_at = refill(state, spec, moment)
    state.in_flight = max(0, state.in_flight - 1)


# --- where the state lives ---------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    connection_id: int
    name: str


class Backend(Protocol):
    def take(self, key: Key, spec: Bucket, slot: str) -> Decision: ...

    def release(self, key: Key, spec: Bucket, slot: str) -> None: ...

    def throttle(self, key: Key, until: datetime.datetime) -> datetime.datetime:
        """Keep the later of ``until`` and the bucket's wait; return the bucket's wait."""
        ...

    def lift(self, key: Key, until: datetime.datetime) -> None:
        """Forget the bucket's wait if it is still ``until`` (or earlier)."""
        ...

    def state(self, key: Key) -> State: ...


_FIELDS = ("tokens", "refilled_at", "throttled_until", "in_flight", "day", "used_today")


class DatabaseBackend:
    """RateBucket rows, each taken under its own lock (never the Connection's)."""

    def _locked(self, key: Key) -> RateBucket:
        rows = RateBucket.objects.select_for_update()
        try:
            return rows.get(connection_id=key.connection_id, name=key.name)
        except RateBucket.DoesNotExist:
            # Lazily; get_or_create inserts in a savepoint and reads the winner's row on a conflict.
            RateBucket.objects.get_or_create(connection_id=key.connection_id, name=key.name)
            return rows.get(connection_id=key.connection_id, name=key.name)

    @staticmethod
    def _state(row: RateBucket) -> State:
        return State(**{f: getattr(row, f) for f in _FIELDS})

    @staticmethod
    def _save(row: RateBucket, state: State) -> None:
        RateBucket.objects.filter(pk=row.pk).update(**{f: getattr(state, f) for f in _FIELDS})

    def take(self, key: Key, spec: Bucket, slot: str) -> Decision:
        with transaction.atomic():
            row = self._locked(key)
            state = self._state(row)
            decision = decide(state, spec, now(), lease_seconds())  # the clock read under the lock
            if decision.granted:
                self._save(row, state)
        return decision

    def release(self, key: Key, spec: Bucket, slot: str) -> None:
        with transaction.atomic():
            row = self._locked(key)
            state = self._state(row)
            release(state, spec, now())
            self._save(row, state)

    def throttle(self, key: Key, until: datetime.datetime) -> datetime.datetime:
        with transaction.atomic():
            row = self._locked(key)
            if row.throttled_until is not None and row.throttled_until >= until:
                return row.throttled_until
            RateBucket.objects.filter(pk=row.pk).update(throttled_until=until)
        return until

    def lift(self, key: Key, until: datetime.datetime) -> None:
        RateBucket.objects.filter(
            connection_id=key.connection_id, name=key.name, throttled_until__lte=until
        ).update(throttled_until=None)

    def state(self, key: Key) -> State:
        row = RateBucket.objects.filter(connection_id=key.connection_id, name=key.name).first()
        return State() if row is None else self._state(row)


# KEYS: the bucket's hash, its slot leases (a sorted set scored by expiry).
# ARGV: now, rate, burst, concurrency (0: none), daily (-1: none), today, next midnight, slot id,
# the slot's lease expiry, the hash's time to live. Times are epoch seconds.
_TAKE = """
local function num(x) return string.format('%.17g', x) end
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local daily = tonumber(ARGV[5])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'refilled_at', 'throttled_until', 'day', 'used_today')
local wait_until = tonumber(s[3])
if wait_until and wait_until > now then return {'throttled', num(wait_until - now), s[3]} end
local used = 0
if s[4] == ARGV[6] then used = tonumber(s[5]) or 0 end
if daily >= 0 and used >= daily then return {'daily', num(tonumber(ARGV[7]) - now), ''} end
local tokens = burst
local stamp = now
local refilled = tonumber(s[2])
if refilled then
  stamp = math.max(refilled, now)
  tokens = math.min(burst, (tonumber(s[1]) or 0) + math.max(0, now - refilled) * rate)
end
if rate > 0 and tokens < 1 then return {'rate', num((1 - tokens) / rate), ''} end
if cap > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= cap then return {'busy', '', ''} end
  redis.call('ZADD', KEYS[2], ARGV[9], ARGV[8])
  redis.call('EXPIRE', KEYS[2], ARGV[10])
end
if rate > 0 then tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', num(tokens), 'refilled_at', num(stamp),
  'day', ARGV[6], 'used_today', num(used + 1))
redis.call('EXPIRE', KEYS[1], ARGV[10])
return {'ok', '0', ''}
"""
# KEYS: the bucket's hash. ARGV: until, the hash's time to live. Returns the bucket's wait.
_THROTTLE = """
local current = redis.call('HGET', KEYS[1], 'throttled_until')
if current and tonumber(current) >= tonumber(ARGV[1]) then return current end
redis.call('HSET', KEYS[1], 'throttled_until', ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return ARGV[1]
"""
_LIFT = """
local current = redis.call('HGET', KEYS[1], 'throttled_until')
if current and tonumber(current) <= tonumber(ARGV[1]) then redis.call('HDEL', KEYS[1], 'throttled_until') end
return 0
"""


def _epoch(moment: datetime.datetime) -> str:
    return repr(moment.timestamp())


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _moment(epoch: str | bytes | None) -> datetime.datetime | None:
    if not epoch:
        return None
    return datetime.datetime.fromtimestamp(float(epoch), tz=datetime.UTC)


class RedisBackend:
    """A hash per bucket and a sorted set of slot leases, changed by Lua scripts (one round trip)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self.prefix = prefix
        self._take = self.client.register_script(_TAKE)
        self._throttle = self.client.register_script(_THROTTLE)
        self._lift = self.client.register_script(_LIFT)

    def _keys(self, key: Key) -> list[str]:
        base = f"{self.prefix}:{key.connection_id}:{key.name}"
        return [base, f"{base}:slots"]

    def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        import redis

        try:
            return script(keys=keys, args=args)
        except redis.RedisError as exc:
            raise TransientError(f"The rate limiter's Redis is unavailable: {exc}") from exc

    def take(self, key: Key, spec: Bucket, slot: str) -> Decision:
        moment = now()
        lease = lease_seconds()
        reason, wait, until = self._call(
            self._take,
            self._keys(key),
            [
                _epoch(moment),
                repr(max(0.0, float(spec.rate))),
                max(1, spec.burst),
                (spec.concurrency or 0) if slot else 0,
                -1 if spec.daily is None else spec.daily,
                moment.astimezone(datetime.UTC).date().isoformat(),
                _epoch(next_midnight(moment)),
                slot,
                _epoch(moment + datetime.timedelta(seconds=lease)),
                REDIS_TTL_SECONDS,
            ],
        )
        reason = _text(reason)
        if reason == "ok":
            return GRANTED
        if reason == "busy":
            return Decision(SLOT_POLL_SECONDS, "busy")
        return Decision(float(wait), reason, _moment(until))

    def release(self, key: Key, spec: Bucket, slot: str) -> None:
        import redis

        try:
            self.client.zrem(self._keys(key)[1], slot)
        except redis.RedisError as exc:
            raise TransientError(f"The rate limiter's Redis is unavailable: {exc}") from exc

    def throttle(self, key: Key, until: datetime.datetime) -> datetime.datetime:
        ttl = max(REDIS_TTL_SECONDS, int((until - now()).total_seconds()) + 60)
        stored = self._call(self._throttle, self._keys(key)[:1], [_epoch(until), ttl])
        return _moment(stored) or until

    def lift(self, key: Key, until: datetime.datetime) -> None:
        self._call(self._lift, self._keys(key)[:1], [_epoch(until)])

    def state(self, key: Key) -> State:
        raw: dict[Any, Any] = self.client.hgetall(self._keys(key)[0])
        text = {_text(k): _text(v) for k, v in raw.items()}
        day = text.get("day")
        return State(
            tokens=float(text.get("tokens") or 0),
            refilled_at=_moment(text.get("refilled_at")),
            throttled_until=_moment(text.get("throttled_until")),
            in_flight=int(self.client.zcount(self._keys(key)[1], _epoch(now()), "+inf")),
            day=datetime.date.fromisoformat(day) if day else None,
            used_today=int(text.get("used_today") or 0),
        )


DATABASE = DatabaseBackend()


@functools.cache
def _redis(url: str, prefix: str) -> RedisBackend:
    return RedisBackend(url, prefix)


def backend() -> Backend:
    """The configured backend: Redis when INTEGRATIONS_RATE_LIMIT_BACKEND is "redis" and the broker
    is a Redis, else the database."""
    choice = str(getattr(settings, "INTEGRATIONS_RATE_LIMIT_BACKEND", "database") or "database").lower()
    if choice != "redis":
        return DATABASE
    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        _warn_no_redis(url)
        return DATABASE
    prefix = str(getattr(settings, "INTEGRATIONS_RATE_LIMIT_REDIS_PREFIX", "erp:ratelimit"))
    return _redis(url, prefix)


@functools.cache
def _warn_no_redis(url: str) -> None:
    logger.warning(
        "INTEGRATIONS_RATE_LIMIT_BACKEND is redis but CELERY_BROKER_URL (%r) is not a Redis: "
        "rate limits are kept in the database.",
        url.split("@")[-1],
    )


# --- the limiter a client uses -------------------------------------------------------------------


class Limiter:
    """The rate limits of one connection, as one client (a worker's HubHttp) takes its turns."""

    def __init__(self, connection: Connection, connector_cls: type[Connector]) -> None:
        self.connection = connection
        self.connector_cls = connector_cls

    @property
    def backend(self) -> Backend:
        return backend()

    def spec(self, name: str) -> Bucket:
        """The declared bucket (read at each turn: a connector's limits may change with its plan),
        its rate times INTEGRATIONS_RATE_SCALE (1; a simulated day run N times faster than the wall
        clock, with its tools' fakes, sets N: their limits pass N times faster too)."""
        declared = self.connector_cls.rate_buckets
        if name in declared:
            bucket = declared[name]
        elif name == DEFAULT:
            bucket = Bucket(
                rate=float(self.connector_cls.rate_limit_per_second),
                burst=int(self.connector_cls.rate_limit_burst),
            )
        else:
            raise ValueError(f"{self.connector_cls.name} declares no rate-limit bucket {name!r}.")
        scale = float(settings.INTEGRATIONS_RATE_SCALE)
        return bucket if scale == 1 else dataclasses.replace(bucket, rate=bucket.rate * scale)

    def bucket_of(self, connector: Connector, method: str, url: str, explicit: str | None = None) -> str:
        """The bucket a request counts against: the one it names, else the connector's choice for
        its method and URL, else "default"."""
        name = explicit or connector.bucket_for(method, url) or DEFAULT
        self.spec(name)
        return name

    def key(self, name: str | None) -> Key:
        return Key(int(self.connection.pk), name or DEFAULT)

    @contextmanager
    def turn(self, bucket: str | None = None) -> Iterator[None]:
        """Take a turn on ``bucket`` (waiting in-process when the wait is short, else raising
        Throttled) and hold its slot, if it has a concurrency cap, until the block ends."""
        key = self.key(bucket)
        spec = self.spec(key.name)
        slot = uuid.uuid4().hex if spec.concurrency is not None else ""
        self._wait(key, spec, slot)
        try:
            yield
        finally:
            if slot:
                try:
                    self.backend.release(key, spec, slot)
                except Exception:  # the lease frees it in the end; never hide the request's own outcome
                    logger.exception("Could not release a slot of %s", key)

    def wait_for_turn(self, bucket: str | None = None) -> None:
        """Take a turn holding no slot (a bucket with a concurrency cap is taken with ``turn``)."""
        key = self.key(bucket)
        spec = self.spec(key.name)
        if spec.concurrency is not None:
            with self.turn(bucket):
                return
        self._wait(key, spec, "")

    def _wait(self, key: Key, spec: Bucket, slot: str) -> None:
        max_wait = float(settings.INTEGRATIONS_MAX_INLINE_WAIT_SECONDS)
        waited = 0.0
        while True:
            decision = self._take(key, spec, slot)
            if decision.granted:
                return
            if waited + decision.wait > max_wait:
                raise Throttled(self._why(key, spec, decision), retry_after=self._retry_after(decision))
            sleep(decision.wait)
            waited += decision.wait

    def _take(self, key: Key, spec: Bucket, slot: str) -> Decision:
        decision = self.backend.take(key, spec, slot)
        if decision.reason == "throttled" and decision.until and not self._summary_covers(decision.until):
            # The connection's wait (the summary of its buckets') was cleared: lift this one too.
            self.backend.lift(key, decision.until)
            decision = self.backend.take(key, spec, slot)
        return decision

    def _summary_covers(self, until: datetime.datetime) -> bool:
        slack = datetime.timedelta(milliseconds=1)  # Redis keeps epoch floats
        return Connection.objects.filter(pk=self.connection.pk, throttled_until__gte=until - slack).exists()

    @staticmethod
    def _retry_after(decision: Decision) -> float:
        if decision.reason == "busy":
            return SLOT_RETRY_SECONDS
        return max(decision.wait, 0.1)

    def _why(self, key: Key, spec: Bucket, decision: Decision) -> str:
        where = f"{self.connection} ({key.name})"
        if decision.reason == "daily":
            return f"{where} has used its {spec.daily} requests of the day; it may go on at midnight UTC."
        if decision.reason == "busy":
            return f"{where} has {spec.concurrency} requests in flight already."
        return f"{where} is rate limited for {decision.wait:.1f} s more."

    def throttle(self, seconds: float, bucket: str | None = None) -> float:
        """Nobody sends on ``bucket`` before now + seconds (a later wait already set is kept).
        Returns how long the bucket now waits: the longer of the two."""
        moment = now()
        until = moment + datetime.timedelta(seconds=max(0.0, seconds))
        # The summary first: a bucket's wait holds only while the summary covers it.
        Connection.objects.filter(pk=self.connection.pk).exclude(throttled_until__gte=until).update(
            throttled_until=until
        )
        if self.connection.throttled_until is None or self.connection.throttled_until < until:
            self.connection.throttled_until = until
        kept = self.backend.throttle(self.key(bucket), until)
        return max(0.0, (kept - moment).total_seconds())

    def heed(self, hint: RateLimitHint, bucket: str | None = None, *, refused: bool = False) -> None:
        """What a response's rate-limit headers say: wait ``wait_seconds``, and until the window
        resets (``reset_seconds``) once it is used up or the request was refused (a 429)."""
        wait = max(0.0, hint.wait_seconds)
        spent = hint.used is not None and hint.limit is not None and hint.used >= hint.limit
        if hint.reset_seconds is not None and (refused or spent):
            wait = max(wait, hint.reset_seconds)
        if wait > 0:
            self.throttle(wait, hint.bucket or bucket)

    def state(self, bucket: str | None = None) -> State:
        """The bucket's state as stored (for pages and tests)."""
        return self.backend.state(self.key(bucket))
