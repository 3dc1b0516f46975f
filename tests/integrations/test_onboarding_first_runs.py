"""The getting-started checklist's first runs sit out a rate limit the demo's own pushes used up."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from integrations import onboarding
from integrations.models import Connection, SyncRunStatus
from tests.integrations.factories import ConnectionFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def test_a_first_run_refused_by_the_rate_limit_runs_again_once_it_has_passed():
    # given: the first try fails while the connection is throttled for a moment, the next succeeds
    connection = ConnectionFactory()
    Connection.objects.filter(pk=connection.pk).update(
        throttled_until=timezone.now() + datetime.timedelta(seconds=0.3)
    )
    statuses = iter([SyncRunStatus.FAILED, SyncRunStatus.SUCCEEDED])
    tried_at = []

    def run_once():
        tried_at.append(timezone.now())
        return SyncRunFactory(connection=connection, status=next(statuses))

    # when
    run = onboarding._patiently(connection, run_once)

    # then: tried again after the wait, and that run is the one reported
    assert run.status == SyncRunStatus.SUCCEEDED
    assert len(tried_at) == 2
    assert (tried_at[1] - tried_at[0]).total_seconds() >= 0.3


def test_a_failure_with_no_rate_limit_or_a_long_one_is_reported_as_it_is():
    connection = ConnectionFactory()
    tries = []

    def run_once():
        tries.append(1)
        return SyncRunFactory(connection=connection, status=SyncRunStatus.FAILED)

    assert onboarding._patiently(connection, run_once).status == SyncRunStatus.FAILED
    Connection.objects.filter(pk=connection.pk).update(
        throttled_until=timezone.now() + datetime.timedelta(minutes=5)
    )
    assert onboarding._patiently(connection, run_once).status == SyncRunStatus.FAILED
    assert len(tries) == 2  # neither waited nor tried again
