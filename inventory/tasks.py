from celery import shared_task

from inventory.integrity import run_check
from inventory.services.closing import ledger_days_close


@shared_task(ignore_result=True)
def check_stock_task() -> int:
    """Nightly: recompute levels from the ledger and keep the result for the UI."""
    return run_check().drift_count


@shared_task(ignore_result=True)
def close_ledger_days_task() -> int:
    """Nightly: close the days that ended (``inventory.day_closed`` for the books)."""
    return len(ledger_days_close())
