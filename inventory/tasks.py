from celery import shared_task

from inventory.integrity import run_check


@shared_task(ignore_result=True)
def check_stock_task() -> int:
    """Nightly: recompute levels from the ledger and keep the result for the UI."""
    return run_check().drift_count
