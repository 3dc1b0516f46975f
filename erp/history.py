"""Change history (django-simple-history): each row names the user and, for a change made
through the API, the API key.

simple-history takes the user from the request (HistoryRequestMiddleware); an API-key request
acts as the key's owner (erp.apiauth sets ``request.user``), and the key itself is recorded on
the row here, as ``history_api_key`` (erp.models.ApiKeyHistory).

``record(instance, history_type)`` writes the row simple-history's ``post_save`` would, by one
INSERT whose SQL is built once (erp.statements), for a hot save made with
``skip_history_when_saving`` (an order placed through the API).
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record
from simple_history.utils import get_change_reason_from_object

from erp import statements


def record_api_key(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    """pre_create_historical_record: note the API key of the request making the change."""
    request = getattr(HistoricalRecords.context, "request", None)
    api_key = getattr(request, "api_key", None)
    if api_key is not None and hasattr(history_instance, "history_api_key_id"):
        history_instance.history_api_key_id = api_key.pk


@functools.cache
def _history_model(model: type[Model]) -> type[Model]:
    """The history model of ``model`` (``Model.history`` builds a manager class per read)."""
    history: type[Model] = model.history.model  # type: ignore[attr-defined]
    if history._history_m2m_fields or hasattr(history, "history_relation"):  # type: ignore[attr-defined]
        raise ImproperlyConfigured(f"history.record writes no m2m or relation history ({model.__name__}).")
    return history


def record(instance: Model, history_type: str) -> None:
    """The instance's history row, as simple-history's ``post_save`` writes it (the instance saved
    with ``skip_history_when_saving``): the same row, with its user (the instance's
    ``_history_user``, else the request's authenticated user), change reason and date, the same
    ``pre_create_historical_record`` (which adds the API key, ``record_api_key``) and
    ``post_create_historical_record`` signals, but inserted by a statement built once
    (``erp.statements.insert``), not by ``save()`` (a tenth of the CPU of an order placed through
    the API went to its history row). tests/sales/test_ingest_history.py compares both rows."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    model = _history_model(type(instance))
    history_date = getattr(instance, "_history_date", timezone.now())
    try:
        history_user = instance._history_user  # type: ignore[attr-defined]
    except AttributeError:
        request = getattr(HistoricalRecords.context, "request", None)
        user = getattr(request, "user", None)
        history_user = user if getattr(user, "is_authenticated", False) else None
    reason = get_change_reason_from_object(instance)
    row = model(
        history_date=history_date,
        history_type=history_type,
        history_user=history_user,
        history_change_reason=reason,
        **{f.attname: getattr(instance, f.attname) for f in model.tracked_fields},  # type: ignore[attr-defined]
    )
    signal = {"history_date": history_date, "history_user": history_user, "history_change_reason": reason}
    pre_create_historical_record.send(
        sender=model, instance=instance, history_instance=row, using=None, **signal
    )
    statements.insert([row])
    post_create_historical_record.send(
        sender=model, instance=instance, history_instance=row, using=None, **signal
    )
