"""Hot statements built once per shape, then run with new values.

Building a statement costs the ORM far more CPU than PostgreSQL needs to run it: a lookup by id
with one ``select_related`` compiles in ~0.3 ms and runs in ~0.05 ms. The statements of a hot
path (an order's channel, customer, products, the lock of its stock levels, its history row)
keep the same shape from one request to the next, only their values change. This module builds
each shape once per process and then only binds the new values:

``Lookup``
    A query of model instances, written as the usual QuerySet by a function of its arguments
    (``Lookup(lambda pk: Channel.objects.select_related("warehouse").filter(pk=pk))``). The
    first call of a shape (the arguments' names, and how many values each list holds) builds
    the QuerySet with *stand-ins* (values no row has, negative ids and marked strings), lets
    Django compile it, and notes where each stand-in landed among the parameters; every later
    call copies those parameters, puts its own values in their places, runs the SQL and reads
    the rows as Django's ``ModelIterable`` does (the same converters, ``from_db``, the rows of
    ``select_related`` and annotations). On PostgreSQL it runs through ``erp.prepared``: bound on
    the server and prepared after a few runs, so PostgreSQL plans it once per connection too.

``insert``
    The INSERT of a few new instances of a model, its SQL built once per (model, number of rows):
    what ``bulk_create`` writes (``pre_save`` of every field, so ``auto_now`` is set, values
    prepared by their fields, the primary key read back), without its per-call compilation.
    Like ``bulk_create`` it sends no signals. On PostgreSQL a value of the kind its field expects
    (a ``str`` for a ``CharField``, an ``int`` for an integer or a key to one, a finite ``Decimal``,
    an aware ``datetime``, a ``UUID``, ``None``) is bound as the field would prepare it, without
    the field's nested calls: ``binder`` gives that, per field class, and only for classes that
    do not override Django's preparation; any other value goes through its field.

What a lookup's function must keep to: its SQL depends only on the shape, never on the values
(no ``if ids:``, no value-dependent branches); each argument is an ``int``, a ``str`` or a
list of them (no ``None``, which Django turns into ``IS NULL``; no empty list); a value is used
as given (``=``, ``IN``), not transformed by its lookup (``__contains`` wraps a string in
``%``: such a stand-in is not found among the parameters, and building the shape raises
``ValueError`` saying so). Not supported (``ValueError`` when built): ``prefetch_related``,
``values()``/``values_list()``, the QuerySets of a related manager. ``select_for_update`` is:
outside a transaction it raises Django's ``TransactionManagementError``, as the QuerySet does.

A list longer than ``Lookup.max_items`` (32) is not given a shape of its own: that call runs the
QuerySet as the ORM would (a bulk request would otherwise fill the cache with one-off shapes).
At most ``SHAPES_KEPT`` shapes are kept per lookup; beyond, the cache starts again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections
from django.db.models import Field, Model, QuerySet, fields
from django.db.models.query import ModelIterable, get_related_populators  # type: ignore[attr-defined]
from django.db.transaction import TransactionManagementError

from erp import pipeline
from erp.prepared import prepared_cursor

M = TypeVar("M", bound=Model)

Value = int | str
Argument = Value | Sequence[Value]

SHAPES_KEPT = 64
INSERT_MAX_ROWS = 64

# Stand-ins: within PostgreSQL's 32-bit integer range (Django drops a value out of a column's
# range from the SQL, and a stand-in must reach it), far below any id a row has.
_INT_STAND_IN = -2_000_000_000
_STR_STAND_IN = "\x1ferp.statements stand-in {}\x1f"

# Per argument, sorted by name: (its name, how many values or -1 for a scalar, "int" or "str").
Shape = tuple[tuple[str, int, str], ...]


@dataclass(frozen=True)
class _Compiled:
    """One shape of a lookup: its SQL, its parameters with stand-ins, where the values go, and how
    a row becomes an instance (what ``ModelIterable`` works out on every run)."""

    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str, int], ...]  # (parameter index, argument name, index in its list or -1)
    for_update: bool
    model: type[Model]
    start: int  # the model's own columns are row[start:end]
    end: int
    init_list: tuple[str, ...]
    related_populators: tuple[Any, ...]
    annotations: tuple[tuple[str, int], ...]
    # (column, its converters, the expression they are given): Django's ``get_converters``. The
    # functions are the fields' and the backend's; they are called with the connection of the
    # run, never the one that built the shape.
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


def _shape(values: dict[str, Argument]) -> Shape:
    shape = []
    for name in sorted(values):
        value = values[name]
        items = list(value) if isinstance(value, list | tuple) else [value]
        if isinstance(value, list | tuple) and not items:
            raise ValueError(f"Argument {name!r} is an empty list: a lookup cannot build IN ().")
        kinds = {_kind(name, item) for item in items}
        if len(kinds) > 1:
            raise ValueError(f"Argument {name!r} mixes ints and strings.")
        shape.append((name, len(items) if isinstance(value, list | tuple) else -1, kinds.pop()))
    return tuple(shape)


def _kind(name: str, value: Any) -> str:
    if type(value) is int:  # not bool
        return "int"
    if isinstance(value, str):
        return "str"
    raise TypeError(f"Argument {name!r}: a lookup's values are ints or strings, not {type(value).__name__}.")


class Lookup(Generic[M]):
    """A query of model instances built once per shape, run with new values (see the module)."""

    max_items = 32

    def __init__(self, build: Callable[..., QuerySet[M]], *, using: str = DEFAULT_DB_ALIAS) -> None:
        self.build = build
        self.using = using
        self._shapes: dict[tuple[str, Shape], _Compiled] = {}

    def __repr__(self) -> str:
        return f"Lookup({getattr(self.build, '__qualname__', self.build)})"

    def rows(self, **values: Argument) -> list[M]:
        """The instances the QuerySet built with these values gives, in its order."""
        shape = _shape(values)
        if any(size > self.max_items for _, size, _ in shape):
            return list(self.build(**values).using(self.using))
        connection = connections[self.using]
        key = (connection.vendor, shape)
        compiled = self._shapes.get(key)
        if compiled is None:
            compiled = self._compile(shape)
            if len(self._shapes) >= SHAPES_KEPT:
                self._shapes.clear()
            self._shapes[key] = compiled
        if (
            compiled.for_update
            and connection.features.has_select_for_update
            and connection.get_autocommit()
            and connection.features.supports_transactions
        ):
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(compiled.params)
        for index, name, item in compiled.slots:
            value = values[name]
            params[index] = value[item] if item >= 0 else value  # type: ignore[index]
        with prepared_cursor(self.using) as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        return [_instance(compiled, row, connection) for row in fetched]

    def first(self, **values: Argument) -> M | None:
        """The first instance the QuerySet gives with these values (in its order), or None."""
        found = self.rows(**values)
        return found[0] if found else None

    def _compile(self, shape: Shape) -> _Compiled:
        """Build the QuerySet with stand-ins, compile it, and note where each stand-in landed."""
        stand_ins: dict[str, Any] = {}
        places: dict[Value, tuple[str, int]] = {}
        n = 0
        for name, size, kind in shape:
            items: list[Value] = []
            for item in range(max(size, 1)):
                n += 1
                stand_in: Value = _INT_STAND_IN - n if kind == "int" else _STR_STAND_IN.format(n)
                items.append(stand_in)
                places[stand_in] = (name, item if size >= 0 else -1)
            stand_ins[name] = items if size >= 0 else items[0]
        queryset = self.build(**stand_ins).using(self.using)
        if queryset._iterable_class is not ModelIterable:
            raise ValueError(f"{self!r}: only QuerySets of model instances (no values(), values_list()).")
        if queryset._prefetch_related_lookups or queryset._known_related_objects:  # type: ignore[attr-defined]
            raise ValueError(
                f"{self!r}: prefetch_related and a related manager's QuerySet are not supported."
            )
        compiler = queryset.query.get_compiler(using=self.using)
        # FOR UPDATE outside a transaction: Django raises TransactionManagementError here, and
        # rows() on every later run of the shape.
        sql, params = compiler.as_sql()
        slots = []
        seen: set[Value] = set()
        for index, param in enumerate(params):
            if isinstance(param, int | str) and not isinstance(param, bool) and param in places:
                name, item = places[param]
                slots.append((index, name, item))
                seen.add(param)
        missing = [places[s] for s in places if s not in seen]
        if missing:
            raise ValueError(
                f"{self!r}: the value of {missing[0][0]!r} is not among the statement's parameters "
                "as given (its lookup transforms it, or Django left it out): run it as a QuerySet."
            )
        select, klass_info = compiler.select, compiler.klass_info
        if klass_info is None or compiler.has_composite_fields([s[0] for s in select]):
            raise NotSupportedError(f"{self!r}: this QuerySet cannot be read as model instances here.")
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            for_update=bool(queryset.query.select_for_update),
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=tuple(f[0].target.attname for f in select[start:end]),
            related_populators=tuple(get_related_populators(klass_info, select, self.using)),
            annotations=tuple((compiler.annotation_col_map or {}).items()),
            converters=tuple(
                (pos, tuple(convs), expression) for pos, (convs, expression) in converters.items()
            ),
        )


def _instance(compiled: _Compiled, fetched: Sequence[Any], connection: Any) -> Any:
    """A row as ``ModelIterable`` makes it an instance: converted, ``from_db``, related rows set."""
    row = list(fetched)
    for pos, convs, expression in compiled.converters:
        value = row[pos]
        for convert in convs:
            value = convert(value, expression, connection)
        row[pos] = value
    obj = compiled.model.from_db(connection.alias, compiled.init_list, row[compiled.start : compiled.end])
    for populator in compiled.related_populators:
        populator.populate(row, obj)
    for name, pos in compiled.annotations:
        setattr(obj, name, row[pos])
    return obj


def insert(objs: Sequence[M], *, using: str = DEFAULT_DB_ALIAS) -> list[M]:
    """INSERT these new instances of one model in one statement, as ``bulk_create`` would: every
    field's ``pre_save`` (``auto_now``), values prepared by their fields, related rows checked as
    saved, the auto primary key read back and set. Its SQL is built once per (model, number of
    rows, whether the keys are given) and prepared on PostgreSQL (``erp.prepared``). No signals,
    as ``bulk_create``.

    The instances of a model with an auto primary key have none yet, or all have one from
    ``assign_keys``: then the keys are written and nothing is read back, and inside
    ``erp.pipeline.pipelined()`` the statement is only sent. Without keys inside a pipeline, the
    keys are set when the pipeline ends. Values are plain values, not expressions (``F()``,
    ``Now()``: use ``bulk_create``). More than ``INSERT_MAX_ROWS`` (64) rows, or more parameters
    than the database takes in one statement, are left to ``bulk_create``."""
    if not objs:
        return []
    model = type(objs[0])
    if any(type(obj) is not model for obj in objs):
        raise ValueError("insert(): the instances are of one model.")
    connection = connections[using]
    if any(not obj._state.adding for obj in objs):
        raise ValueError(f"insert(): this {model.__name__} has a primary key already: it is not new.")
    keyed = objs[0].pk is not None
    if any((obj.pk is not None) is not keyed for obj in objs):
        raise ValueError(f"insert(): some of these {model.__name__} instances have a key, others not.")
    if len(objs) > INSERT_MAX_ROWS:  # a bulk write: one shape each is not worth keeping
        return model._base_manager.using(using).bulk_create(list(objs))
    sql, plan, returns_pk = _insert_sql(model, len(objs), connection.alias, connection.vendor, keyed)
    if len(objs) * len(plan) > (connection.features.max_query_params or 65_535):
        return model._base_manager.using(using).bulk_create(list(objs))  # in batches
    params: list[Any] = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert")  # type: ignore[attr-defined]
        state = obj.__dict__
        for field, attname, bind in plan:  # prepare(), inlined: the loop of every insert
            if attname is not None:  # pre_save is the attribute's value
                value = state[attname] if attname in state else getattr(obj, attname)
                if bind is not None:
                    bound = bind(value)
                    if bound is not PREPARE:
                        params.append(bound)
                        continue
            else:
                value = field.pre_save(obj, True)
            value = field.get_db_prep_save(value, connection)
            if hasattr(value, "resolve_expression"):
                raise ValueError(
                    f"insert(): {model.__name__}.{field.name} is an expression; use bulk_create."
                )
            params.append(value)
    pk_attname = model._meta.pk.attname

    def read(keys: list[tuple[Any, ...]]) -> None:
        for obj, (key,) in zip(objs, keys, strict=True):
            setattr(obj, pk_attname, key)

    pipeline.send(sql, params, read if returns_pk else None, using)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return list(objs)


def assign_keys(
    *groups: Sequence[Model], sequences: Sequence[str] = (), using: str = DEFAULT_DB_ALIAS
) -> list[int] | None:
    """Give new instances their auto primary keys before they are written, from their tables'
    sequences, and take the next value of each named sequence of ``sequences`` (a document
    number's, ``erp.numbering``), in ONE statement for all of them (PostgreSQL): ``insert`` then
    writes the instances and reads nothing back, so that an order, its lines and the rows that
    point at them can be sent together (``erp.pipeline``). Returns the sequences' values, in order.

    Elsewhere it does nothing and returns None: ``insert`` reads the keys back. Keys taken and not
    written leave gaps, as a rolled-back INSERT does."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    groups = tuple(group for group in groups if group)
    if not groups and not sequences:
        return []
    for group in groups:
        for obj in group:
            if obj.pk is not None or not obj._state.adding:
                raise ValueError(f"assign_keys(): this {type(obj).__name__} has a key already.")
    shape = tuple((type(group[0]), len(group)) for group in groups)
    with prepared_cursor(using) as cursor:
        cursor.execute(_keys_sql(shape, tuple(sequences), connection.alias))
        row = cursor.fetchone()
    values, arrays = list(row[: len(sequences)]), row[len(sequences) :]
    for group, keys in zip(groups, arrays, strict=True):
        for obj, key in zip(group, keys, strict=True):
            obj.pk = key
    return values


_KEYS_SQL: dict[tuple[tuple[tuple[type[Model], int], ...], tuple[str, ...], str], str] = {}
_SEQUENCES: dict[tuple[type[Model], str], str] = {}


def _keys_sql(shape: tuple[tuple[type[Model], int], ...], sequences: tuple[str, ...], alias: str) -> str:
    """``SELECT nextval('seq'), ..., ARRAY(SELECT nextval(...) FROM generate_series(1, 3)), ...``: a
    value per named sequence, then an array of keys per (model, how many). The counts are written
    in the text, not bound: with a parameter PostgreSQL's generic plan expects a thousand rows of
    ``generate_series`` and it plans the statement again on every run."""
    key = (shape, sequences, alias)
    found = _KEYS_SQL.get(key)
    if found is not None:
        return found
    columns = [f"nextval({_literal(name)}::regclass)" for name in sequences]
    for model, count in shape:
        sequence = _sequence(model, alias)
        columns.append(
            f"ARRAY(SELECT nextval({_literal(sequence)}::regclass) FROM generate_series(1, {int(count)}))"
        )
    if len(_KEYS_SQL) >= SHAPES_KEPT:
        _KEYS_SQL.clear()
    found = _KEYS_SQL[key] = "SELECT " + ", ".join(columns)
    return found


def _sequence(model: type[Model], alias: str) -> str:
    """The sequence of the model's auto primary key, as the catalog names it (read once)."""
    found = _SEQUENCES.get((model, alias))
    if found is not None:
        return found
    connection = connections[alias]
    pk = model._meta.pk
    if pk is None or not getattr(pk, "db_returning", False):
        raise ValueError(f"assign_keys(): {model.__name__} has no auto primary key.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, pk.column])
        (sequence,) = cursor.fetchone()
    if sequence is None:
        raise ValueError(f"assign_keys(): {model._meta.db_table}.{pk.column} has no sequence.")
    found = _SEQUENCES[(model, alias)] = sequence
    return found


def _literal(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


# Per field of an INSERT: the field, the attribute its pre_save reads (None: call pre_save), and
# its binder (None: always prepare the value by the field).
Plan = tuple[tuple[Field, str | None, Callable[[Any], Any] | None], ...]

_INSERTS: dict[tuple[type[Model], int, str, str, bool], tuple[str, Plan, bool]] = {}


def _insert_sql(
    model: type[Model], rows: int, alias: str, vendor: str, keyed: bool = False
) -> tuple[str, Plan, bool]:
    """The INSERT of ``rows`` new rows of ``model``: its SQL, the plan of its values (a row's
    parameters in order), and whether it reads back the auto primary key (not when ``keyed``:
    the rows have theirs)."""
    key = (model, rows, alias, vendor, keyed)
    found = _INSERTS.get(key)
    if found is not None:
        return found
    connection = connections[alias]
    opts = model._meta
    pk = opts.pk
    auto_pk = pk is not None and getattr(pk, "db_returning", False) and not keyed
    returning = list(opts.db_returning_fields)
    if returning and (returning != [pk] or not connection.features.can_return_rows_from_bulk_insert):
        raise NotSupportedError(f"insert(): {model.__name__} reads back {returning}: use bulk_create.")
    fields = tuple(
        f for f in opts.concrete_fields if not getattr(f, "generated", False) and not (auto_pk and f is pk)
    )
    qn = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {qn(opts.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * rows)}"
    )
    if auto_pk:
        sql += f" RETURNING {qn(opts.db_table)}.{qn(pk.column)}"
    plan = tuple(
        (f, f.attname if _pre_save_reads_attribute(f) else None, binder(f, connection)) for f in fields
    )
    if len(_INSERTS) >= SHAPES_KEPT * 4:
        _INSERTS.clear()
    found = _INSERTS[key] = (sql, plan, bool(auto_pk))
    return found


def _pre_save_reads_attribute(field: Field) -> bool:
    """Whether ``field.pre_save(obj, add=True)`` is ``getattr(obj, field.attname)``: Django's own,
    or a date's without ``auto_now``/``auto_now_add``."""
    pre_save = type(field).pre_save
    if pre_save is Field.pre_save:
        return True
    return pre_save in (fields.DateField.pre_save, fields.DateTimeField.pre_save) and not (
        field.auto_now or field.auto_now_add  # type: ignore[attr-defined]
    )


class _Prepare:
    """A binder's answer for a value it leaves to its field's preparation."""

    def __repr__(self) -> str:
        return "PREPARE"


PREPARE: Any = _Prepare()


def _as_is(*kinds: type) -> Callable[[Any], Any]:
    allowed = frozenset((*kinds, type(None)))
    return lambda value: value if type(value) in allowed else PREPARE


def _text(value: Any) -> Any:
    # A TextChoices member is a str, which to_python keeps as it is.
    return value if value is None or isinstance(value, str) else PREPARE


def _finite_decimal(value: Any) -> Any:
    return value if value is None or (type(value) is Decimal and value.is_finite()) else PREPARE


def _aware_datetime(value: Any) -> Any:
    if value is None or (
        type(value) is dt.datetime and (value.utcoffset() is not None or not settings.USE_TZ)
    ):
        return value
    return PREPARE  # naive: the field makes it aware, and warns


def _typed_int(wrapper: Callable[[int], Any]) -> Callable[[Any], Any]:
    """An integer field's binder: its value in the driver's type of the column (psycopg's ``Int4``
    for an ``IntegerField``), as Django's PostgreSQL backend binds it."""
    return lambda value: wrapper(value) if type(value) is int else (None if value is None else PREPARE)


# Field classes whose preparation on PostgreSQL is known, with their binders: a class of exactly
# these methods (itself, or a subclass changing only its options, such as erp.money.MoneyField).
# The most specific first: a DateTimeField is a DateField.
_PREPARATION = ("get_db_prep_save", "get_db_prep_value", "get_prep_value", "to_python")
_AUTO = (fields.BigAutoField, fields.SmallAutoField, fields.AutoField)
_INTEGERS = (
    fields.BigIntegerField,
    fields.SmallIntegerField,
    fields.PositiveBigIntegerField,
    fields.PositiveIntegerField,
    fields.PositiveSmallIntegerField,
    fields.IntegerField,
)
_BINDERS: tuple[tuple[type[Field], Callable[[Any], Any]], ...] = (
    *((auto, _as_is(int)) for auto in _AUTO),  # AutoFieldMixin binds the int itself
    (fields.BooleanField, _as_is(bool)),
    (fields.DateTimeField, _aware_datetime),
    (fields.DateField, _as_is(dt.date)),  # exactly a date: a datetime becomes its date
    (fields.DecimalField, _finite_decimal),  # NaN and infinities are refused by the field
    (fields.UUIDField, _as_is(uuid.UUID)),
    (fields.TextField, _text),
    (fields.CharField, _text),
)


def prepare(field: Field, bind: Callable[[Any], Any] | None, value: Any, connection: Any) -> Any:
    """``field.get_db_prep_save(value, connection)``, through the field's ``binder`` when it has one
    and the value is of its kind."""
    if bind is not None:
        bound = bind(value)
        if bound is not PREPARE:
            return bound
    return field.get_db_prep_save(value, connection)


def binder(field: Field, connection: Any) -> Callable[[Any], Any] | None:
    """How a value of this field is bound without ``field.get_db_prep_save`` (by ``insert``,
    ``prepare``): a function giving what that call gives on this connection, or ``PREPARE`` for a
    value it must go through (of another kind). None: every value goes through it (another
    backend, a JSON field, a field class that overrides its preparation)."""
    if connection.vendor != "postgresql":
        return None
    if field.is_relation:
        target = getattr(field, "target_field", None)
        if type(field).get_db_prep_save is not fields.related.ForeignKey.get_db_prep_save or target is None:
            return None
        return binder(target, connection)  # a key binds as the key it points to

    def keeps(base: type[Field]) -> bool:
        return not any(getattr(type(field), name) is not getattr(base, name) for name in _PREPARATION)

    for base, bind in _BINDERS:  # an auto field before the integer it also is
        if isinstance(field, base):
            return bind if keeps(base) else None
    for base in _INTEGERS:
        if isinstance(field, base):
            wrapper = connection.ops.integerfield_type_map.get(field.get_internal_type())
            return _typed_int(wrapper) if wrapper is not None and keeps(base) else None
    return None
