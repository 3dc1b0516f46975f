"""Emailing a document: addresses checked first, then one message with the PDF attached.

Mail goes out through Django's mail settings (EMAIL_BACKEND, EMAIL_HOST, DEFAULT_FROM_EMAIL, ...).
Apps' services call ``document_send`` inside their transaction, after recording their event: when
the mail server refuses the message, the exception rolls the event back, so the timeline never
says a document was sent when it was not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from ninja import Field, Schema

from erp.exceptions import ValidationFailed

MAX_RECIPIENTS = 20
MAX_SUBJECT = 200
MAX_BODY = 10_000


def parse_addresses(text: str | Iterable[str], *, field: str, required: bool = False) -> list[str]:
    """Addresses separated by commas, semicolons or spaces; a bad one is refused by name."""
    parts = re.split(r"[,;\s]+", text) if isinstance(text, str) else [str(p) for p in text]
    addresses: list[str] = []
    for raw in parts:
        address = raw.strip().strip("<>")
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationFailed(
                f"“{address}” is not an email address; nothing was sent.",
                field_errors={field: [f"“{address}” is not an email address."]},
            ) from None
        if address.lower() not in (a.lower() for a in addresses):
            addresses.append(address)
    if required and not addresses:
        raise ValidationFailed(
            "Give at least one address to send to; nothing was sent.",
            field_errors={field: ["Give at least one address."]},
        )
    if len(addresses) > MAX_RECIPIENTS:
        raise ValidationFailed(
            f"At most {MAX_RECIPIENTS} addresses; nothing was sent.",
            field_errors={field: [f"At most {MAX_RECIPIENTS} addresses."]},
        )
    return addresses


@dataclass(frozen=True)
class Outgoing:
    """A checked message: who gets it, what it says. ``check`` builds one or refuses."""

    to: list[str]
    cc: list[str]
    subject: str
    body: str

    @classmethod
    def check(
        cls, *, to: str | Iterable[str], cc: str | Iterable[str] = "", subject: str, body: str
    ) -> Outgoing:
        to_list = parse_addresses(to, field="to", required=True)
        cc_list = [
            a for a in parse_addresses(cc, field="cc") if a.lower() not in {t.lower() for t in to_list}
        ]
        subject = " ".join(subject.split())  # no line breaks in a header
        if not subject:
            raise ValidationFailed(
                "Give the email a subject; nothing was sent.", field_errors={"subject": ["Required."]}
            )
        if len(subject) > MAX_SUBJECT:
            raise ValidationFailed(
                f"The subject is longer than {MAX_SUBJECT} characters; nothing was sent.",
                field_errors={"subject": [f"At most {MAX_SUBJECT} characters."]},
            )
        if len(body) > MAX_BODY:
            raise ValidationFailed(
                f"The message is longer than {MAX_BODY} characters; nothing was sent.",
                field_errors={"message": [f"At most {MAX_BODY} characters."]},
            )
        return cls(to=to_list, cc=cc_list, subject=subject, body=body.strip())


def document_send(
    outgoing: Outgoing, *, attachment: bytes, filename: str, reply_to: str | None = None
) -> EmailMessage:
    """Send one message with the document's PDF attached (application/pdf, under ``filename``)."""
    message = EmailMessage(
        subject=outgoing.subject,
        body=outgoing.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=outgoing.to,
        cc=outgoing.cc,
        reply_to=[reply_to] if reply_to else None,
    )
    message.attach(filename, attachment, "application/pdf")
    message.send(fail_silently=False)
    return message


class DocumentEmailForm(forms.Form):
    """The "Email" form of a document: the addresses are checked by ``Outgoing.check`` (one message
    for every kind of bad input), so the form only carries the text."""

    to = forms.CharField(max_length=1000, help_text="several: separate with commas")
    cc = forms.CharField(max_length=1000, required=False, label="Cc")
    subject = forms.CharField(max_length=MAX_SUBJECT)
    message = forms.CharField(max_length=MAX_BODY, required=False, widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["to"].widget.attrs.update(
            {"autocomplete": "email", "inputmode": "email", "autofocus": True}
        )
        self.fields["cc"].widget.attrs.update({"autocomplete": "email", "inputmode": "email"})

    def add_domain_errors(self, exc: ValidationFailed) -> None:
        """A service's refusal shown next to the fields it names (or above the form)."""
        named = False
        for name, messages in exc.field_errors.items():
            if name in self.fields:
                for message in messages:
                    self.add_error(name, message)
                named = True
        if not named:
            self.add_error(None, exc.message)


class DocumentEmailIn(Schema):
    """Email a document with its PDF attached. Addresses: a list, or one string separated by commas.
    Subject and message default to what the page's form proposes."""

    to: list[str] | str = Field(
        default_factory=list, description="blank: the customer's (supplier's) email on file"
    )
    cc: list[str] | str = Field(default_factory=list)
    subject: str = Field("", max_length=MAX_SUBJECT, description="blank: the usual subject")
    message: str = Field("", max_length=MAX_BODY, description="blank: the usual message")


class DocumentEmailedOut(Schema):
    """What was sent: to whom, and the attachment's file name."""

    to: list[str]
    cc: list[str]
    subject: str
    attachment: str


# The OpenAPI description of an answer that is a PDF file.
PDF_RESPONSE: dict[str, Any] = {
    "responses": {
        200: {
            "description": "The document as a PDF",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


def email_values(payload: DocumentEmailIn, defaults: dict[str, str]) -> dict[str, Any]:
    """The API's input merged with the form's defaults (blank fields take them)."""
    return {
        "to": payload.to or defaults.get("to", ""),
        "cc": payload.cc or defaults.get("cc", ""),
        "subject": payload.subject or defaults.get("subject", ""),
        "message": payload.message or defaults.get("message", ""),
    }
