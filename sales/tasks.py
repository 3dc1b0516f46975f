from celery import shared_task

from sales.services import backorders_allocate


@shared_task(acks_late=True, ignore_result=True)
def allocate_backorders_task(product_id: int, warehouse_id: int) -> int:
    """Stock arrived for a product in a warehouse: hand it to backorders, oldest first."""
    return len(backorders_allocate(product_id=product_id, warehouse_id=warehouse_id))
