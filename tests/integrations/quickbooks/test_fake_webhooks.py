"""The fake QuickBooks' webhooks: the samples' signatures reproduced, both bodies sent on their
own for API changes and for changes made in QuickBooks, signed, retried after a non-2xx, and the
at-least-once faults."""

from __future__ import annotations

import datetime
import json

import pytest

from integrations.quickbooks.fake import REALM_ID, VERIFIER_TOKEN, sample_webhook, sign, verify
from integrations.quickbooks.fake_data import sample_bytes
from tests.integrations.quickbooks.support import client, make, seeded_sale

HOOK = "https://erp.example.com/integrations/quickbooks/webhooks"


class Receiver:
    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.got: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.got.append((url, headers, body))
        return self.statuses.pop(0) if self.statuses else 200


@pytest.mark.parametrize("kind", ["legacy", "cloudevents"])
def test_the_samples_signatures_are_reproduced(kind):
    headers, body = sample_webhook(kind)

    assert sign(VERIFIER_TOKEN, body) == headers["intuit-signature"]
    assert verify(VERIFIER_TOKEN, headers, body)
    assert not verify(VERIFIER_TOKEN, headers, body + b" ")
    assert not verify("another-token", headers, body)
    assert sign("verify_me", b'{"stuff":"5"}') == "nfPLN16u3vMvv08ghDs+dOkLuirEVDy5wAeG/lmM2OA="


def test_legacy_notifications_for_api_changes_signed_as_the_sample():
    fake, _ = make()
    fake.set_webhook_endpoint(HOOK, webhook_format="legacy")
    seeded_sale(fake)
    receiver = Receiver()

    sent = fake.deliver_webhooks(receiver)

    assert len(sent) == 4  # customer, two items, invoice
    url, headers, body = receiver.got[-1]
    assert url == HOOK
    assert verify(VERIFIER_TOKEN, headers, body)
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert body == json.dumps(json.loads(body), separators=(",", ":")).encode()  # compact, as the sample
    payload = json.loads(body)
    expected = json.loads(sample_bytes("webhook_legacy_eventNotifications.json"))
    assert set(payload) == set(expected)
    note = payload["eventNotifications"][0]
    assert note["realmId"] == REALM_ID
    assert note["dataChangeEvent"]["entities"] == [
        {"name": "Invoice", "id": "1207", "operation": "Create", "lastUpdated": "2026-03-14T14:25:13.000Z"}
    ]
    assert set(note["dataChangeEvent"]["entities"][0]) == set(
        expected["eventNotifications"][0]["dataChangeEvent"]["entities"][0]
    )


def test_cloudevents_for_changes_made_in_quickbooks():
    fake, clock = make()
    seeded_sale(fake)
    fake.set_webhook_endpoint(HOOK, webhook_format="cloudevents")
    clock.sleep(300)

    payment = fake.record_payment_in_qbo("1207")
    fake.edit_customer_in_qbo("58", Notes="Called about the tent")
    fake.merge_in_qbo("Item", "32", "31")
    receiver = Receiver()
    fake.deliver_webhooks(receiver)

    events = [json.loads(body)[0] for _, _, body in receiver.got]
    assert [(e["type"], e["intuitentityid"]) for e in events] == [
        ("qbo.payment.created.v1", payment["Id"]),
        ("qbo.invoice.updated.v1", "1207"),
        ("qbo.customer.updated.v1", "58"),
        ("qbo.item.merged.v1", "31"),
    ]
    sample_event = json.loads(sample_bytes("webhook_cloudevents.json"))[0]
    assert set(events[0]) == set(sample_event)
    assert events[0]["intuitaccountid"] == REALM_ID
    assert events[0]["specversion"] == "1.0"
    assert events[0]["id"].endswith(f"-Payment-{payment['Id']}")
    assert events[0]["time"] == "2026-03-14T14:30:13.000Z"
    assert events[3]["data"] == {"deletedid": "32"}
    assert all(verify(VERIFIER_TOKEN, headers, body) for _, headers, body in receiver.got)
    assert all(headers["Content-Type"] == "application/json" for _, headers, _ in receiver.got)


def test_void_in_quickbooks_is_a_void_event_and_inactive_names_a_delete():
    fake, _ = make()
    seeded_sale(fake)
    fake.set_webhook_endpoint(HOOK, webhook_format="legacy")

    fake.void_invoice_in_qbo("1207")
    fake.edit_in_qbo("Item", "32", Active=False)
    receiver = Receiver()
    fake.deliver_webhooks(receiver)

    operations = [
        (e["name"], e["id"], e["operation"])
        for _, _, body in receiver.got
        for e in json.loads(body)["eventNotifications"][0]["dataChangeEvent"]["entities"]
    ]
    assert operations == [("Invoice", "1207", "Void"), ("Item", "32", "Delete")]


def test_auto_format_is_legacy_before_the_migration_deadline_and_cloudevents_after():
    fake, clock = make()
    fake.set_webhook_endpoint(HOOK)
    fake.create_in_qbo("Customer", {"DisplayName": "Before"})
    clock.now = datetime.datetime(2026, 5, 15, 7, 0, tzinfo=datetime.UTC)
    fake.create_in_qbo("Customer", {"DisplayName": "After"})
    receiver = Receiver()
    fake.deliver_webhooks(receiver)

    bodies = [json.loads(body) for _, _, body in receiver.got]
    assert "eventNotifications" in bodies[0]
    assert isinstance(bodies[1], list)
    assert bodies[1][0]["type"] == "qbo.customer.created.v1"


def test_a_non_2xx_answer_is_retried_with_the_same_signed_body():
    fake, clock = make()
    fake.set_webhook_endpoint(HOOK, webhook_format="legacy")
    client(fake).post("/customer", json={"DisplayName": "Retry Me"})
    receiver = Receiver(500)

    first = fake.deliver_webhooks(receiver)
    too_early = fake.deliver_webhooks(receiver)
    clock.sleep(20 * 60)
    retried = fake.deliver_webhooks(receiver)

    assert len(first) == 1
    assert too_early == []
    assert len(retried) == 1
    assert receiver.got[0][2] == receiver.got[1][2]
    assert verify(VERIFIER_TOKEN, receiver.got[1][1], receiver.got[1][2])
    assert first[0].state == "delivered"
    assert [a.status for a in first[0].attempts] == [500, 200]


def test_retries_give_up_after_the_schedule_but_the_endpoint_stays_on():
    fake, clock = make()
    fake.set_webhook_endpoint(HOOK, webhook_format="legacy")
    fake.create_in_qbo("Customer", {"DisplayName": "Lost"})
    failing = Receiver(500, 500, 500, 500)
    for minutes in (0, 20, 30, 50):
        clock.sleep(minutes * 60)
        fake.deliver_webhooks(failing)
    fake.create_in_qbo("Customer", {"DisplayName": "Next"})
    receiver = Receiver()
    fake.deliver_webhooks(receiver)

    assert len(failing.got) == 4
    assert fake.outbox[0].state == "failed"
    assert len(receiver.got) == 1
    assert b"59" in receiver.got[0][2]


def test_duplicates_and_drops_and_the_entity_filter():
    fake, _ = make()
    fake.set_webhook_endpoint(HOOK, entities=["Customer"], webhook_format="legacy")
    fake.duplicate_next()
    fake.create_in_qbo("Customer", {"DisplayName": "Twice"})
    fake.drop_next()
    fake.create_in_qbo("Customer", {"DisplayName": "Never"})
    fake.create_in_qbo("Vendor", {"DisplayName": "Not wanted"})
    receiver = Receiver()
    fake.deliver_webhooks(receiver)

    assert len(receiver.got) == 2
    assert receiver.got[0][2] == receiver.got[1][2]
    assert [d.state for d in fake.outbox] == ["delivered", "delivered", "dropped"]


def test_no_endpoint_no_deliveries_and_snapshot_is_plain_json():
    fake, _ = make()
    seeded_sale(fake)
    fake.record_payment_in_qbo("1207", 100)

    snapshot = fake.snapshot()

    assert fake.outbox == []
    realm = snapshot["realms"][REALM_ID]
    assert snapshot["tool"] == "quickbooks"
    assert realm["open_receivables"] == 543.42
    assert realm["entities"]["Invoice"]["1207"]["Balance"] == 543.42
    assert json.loads(json.dumps(snapshot)) == snapshot
