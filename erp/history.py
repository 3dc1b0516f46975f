"""Change history (django-simple-history): each row names the user and, for a change made
through the API, the API key.

simple-history takes the user from the request (HistoryRequestMiddleware); an API-key request
acts as the key's owner (erp.apiauth sets ``request.user``), and the key itself is recorded on
the row here, as ``history_api_key`` (erp.models.ApiKeyHistory).
"""

from __future__ import annotations

from typing import Any

from simple_history.models import HistoricalRecords


def record_api_key(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    """pre_create_historical_record: note the API key of the request making the change."""
    request = getattr(HistoricalRecords.context, "request", None)
    api_key = getattr(request, "api_key", None)
    if api_key is not None and hasattr(history_instance, "history_api_key_id"):
        history_instance.history_api_key_id = api_key.pk
