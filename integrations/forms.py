"""Forms of the hub's pages.

The connection form is drawn from the connector's own pydantic schemas: each
setting becomes a field of the matching kind (text, number, checkbox, choice,
URL), each secret a password input that is never filled back in. Editing a
connection shows whether a secret is set and keeps it when left blank. The form
only parses what was typed; validation against the schemas is the service's
(integrations.connections), whose field errors come back next to the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms

from erp.exceptions import DomainError
from integrations.contract import Connector
from integrations.models import Connection
from inventory.models import Product, Warehouse
from sales.models import SalesChannel

SETTING = "setting__"
SECRET = "secret__"
KEEP_HELP = "Set — leave blank to keep."
UNSET_HELP = "Not set."


@dataclass(frozen=True)
class SchemaField:
    """One property of a connector's settings or secrets schema, as a form shows it."""

    name: str
    title: str
    kind: str  # string, integer, number, boolean, choice, url, json
    required: bool
    default: Any = None
    has_default: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()
    max_length: int | None = None


def _resolve(schema: dict[str, Any], prop: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The property with $ref and Optional (anyOf [..., null]) unwrapped; and whether null is allowed."""
    nullable = False
    if "anyOf" in prop:
        options = [p for p in prop["anyOf"] if p.get("type") != "null"]
        nullable = len(options) < len(prop["anyOf"])
        merged = {k: v for k, v in prop.items() if k != "anyOf"}
        if len(options) == 1:
            merged.update(_resolve(schema, options[0])[0])
        prop = merged
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        target = dict(schema.get("$defs", {}).get(name, {}))
        target.update({k: v for k, v in prop.items() if k != "$ref"})
        prop = target
    if "allOf" in prop and len(prop["allOf"]) == 1:
        inner = _resolve(schema, prop["allOf"][0])[0]
        prop = {**inner, **{k: v for k, v in prop.items() if k != "allOf"}}
    return prop, nullable


ACRONYMS = {
    "api": "API",
    "url": "URL",
    "id": "ID",
    "sku": "SKU",
    "ssl": "SSL",
    "oauth": "OAuth",
    "http": "HTTP",
}


def _title(name: str, title: Any) -> str:
    """The schema's own title; pydantic's generated one ("Location Id") as people write it ("Location ID")."""
    generated = name.replace("_", " ").title()
    if title and str(title) != generated:
        return str(title)
    words = [ACRONYMS.get(w, w) for w in name.split("_")]
    first = words[0] if words[0] in ACRONYMS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


def schema_fields(schema: dict[str, Any]) -> list[SchemaField]:
    """The properties of a JSON schema (pydantic's model_json_schema()) in declaration order."""
    required = set(schema.get("required", []))
    fields = []
    for name, raw in schema.get("properties", {}).items():
        prop, nullable = _resolve(schema, raw)
        kind = prop.get("type", "string")
        choices: tuple[str, ...] = ()
        if "enum" in prop:
            kind, choices = "choice", tuple(str(v) for v in prop["enum"])
        elif "const" in prop:
            kind, choices = "choice", (str(prop["const"]),)
        elif kind == "string" and prop.get("format") in ("uri", "url"):
            kind = "url"
        elif kind in ("array", "object"):
            kind = "json"
        elif kind not in ("string", "integer", "number", "boolean"):
            kind = "string"
        fields.append(
            SchemaField(
                name=name,
                title=_title(name, prop.get("title")),
                kind=kind,
                required=name in required and not nullable,
                default=prop.get("default"),
                has_default="default" in prop,
                description=str(prop.get("description", "")),
                choices=choices,
                max_length=prop.get("maxLength"),
            )
        )
    return fields


class JSONField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3, "class": "mono"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | dict):
            return json.dumps(value)
        return value


def _setting_field(spec: SchemaField) -> forms.Field:
    # Not required at the form's level: the connector's schema says what is missing, in one
    # answer with every other error of the settings and secrets. The template still marks it.
    common: dict[str, Any] = {"label": spec.title, "required": False, "help_text": spec.description}
    if spec.kind == "boolean":
        return forms.BooleanField(**common)
    if spec.kind == "integer":
        return forms.IntegerField(**common)
    if spec.kind == "number":
        return forms.FloatField(**common)
    if spec.kind == "choice":
        choices = [(c, c) for c in spec.choices]
        if not spec.required and not spec.has_default:
            choices = [("", "—"), *choices]
        return forms.ChoiceField(choices=choices, **common)
    if spec.kind == "url":
        return forms.URLField(assume_scheme="https", **common)
    if spec.kind == "json":
        return JSONField(**common)
    return forms.CharField(max_length=spec.max_length, **common)


class ConnectionForm(forms.Form):
    """A connection of one connector: its name, settings, secrets and where it maps to.

    ``settings()`` and ``secrets()`` give what to pass to connection_create/update;
    ``add_service_errors`` puts a service's field errors next to the fields.
    """

    name = forms.CharField(max_length=100, label="Name", help_text="What people call it: “EU web store”.")
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label="— not mapped —",
        help_text="Where its orders are fulfilled from and whose stock it is sent.",
    )
    sales_channel = forms.ModelChoiceField(
        queryset=SalesChannel.objects.order_by("name"),
        required=False,
        empty_label="— not mapped —",
        help_text="The channel its orders are recorded in.",
    )

    def __init__(
        self,
        data: Any = None,
        *,
        connector: type[Connector],
        connection: Connection | None = None,
    ) -> None:
        self.connector = connector
        self.connection = connection
        initial: dict[str, Any] = {}
        if connection is not None:
            initial = {
                "name": connection.name,
                "warehouse": connection.warehouse_id,
                "sales_channel": connection.sales_channel_id,
                "api_version": connection.api_version,
            }
        super().__init__(data, initial=initial)
        self.setting_specs = schema_fields(connector.settings_schema.model_json_schema())
        self.secret_specs = schema_fields(connector.secrets_schema.model_json_schema())
        stored_settings = connection.settings if connection is not None else {}
        stored_secret_names = set(connection.secret_names) if connection is not None else set()
        for spec in self.setting_specs:
            field = _setting_field(spec)
            if spec.name == "api_version" and connector.api_versions:
                field = self._version_field(spec, stored_settings.get("api_version"))
            key = f"{SETTING}{spec.name}"
            if spec.name in stored_settings:
                field.initial = stored_settings[spec.name]
            elif spec.has_default:
                field.initial = spec.default
            field.show_required = spec.required and spec.kind != "boolean"  # type: ignore[attr-defined]
            self.fields[key] = field
        for spec in self.secret_specs:
            is_set = spec.name in stored_secret_names
            secret = self.fields[f"{SECRET}{spec.name}"] = forms.CharField(
                label=spec.title,
                required=False,
                strip=False,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=(
                    KEEP_HELP if is_set else UNSET_HELP if connection is not None else spec.description
                ),
            )
            secret.show_required = spec.required and not is_set  # type: ignore[attr-defined]
        setting_names = {s.name for s in self.setting_specs}
        if connector.api_versions and "api_version" not in setting_names:
            self.fields["api_version"] = forms.ChoiceField(
                label="API version",
                choices=[
                    (v, f"{v} (until {sunset:%Y-%m-%d})" if sunset else v)
                    for v, sunset in connector.api_versions.items()
                ],
                required=False,
            )
        self.order_fields(["name", *self._setting_keys(), *self._secret_keys(), "api_version"])

    def _version_field(self, spec: SchemaField, current: Any) -> forms.ChoiceField:
        """The connector's API versions to choose from, each with its sunset (the stored one kept)."""
        versions = dict(self.connector.api_versions)
        if current and current not in versions:
            versions[str(current)] = None
        return forms.ChoiceField(
            label=spec.title,
            required=False,
            help_text=spec.description,
            choices=[
                (v, f"{v} (until {sunset:%Y-%m-%d})" if sunset else v) for v, sunset in versions.items()
            ],
        )

    def _setting_keys(self) -> list[str]:
        return [f"{SETTING}{s.name}" for s in self.setting_specs]

    def _secret_keys(self) -> list[str]:
        return [f"{SECRET}{s.name}" for s in self.secret_specs]

    # The groups a template draws.
    def setting_fields(self) -> list[forms.BoundField]:
        return [self[k] for k in self._setting_keys()]

    def secret_fields(self) -> list[forms.BoundField]:
        return [self[k] for k in self._secret_keys()]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[k] for k in ("api_version",) if k in self.fields]

    def settings(self) -> dict[str, Any]:
        """Every setting of the form; a blank optional one is the schema's default (or null)."""
        values: dict[str, Any] = {}
        for spec in self.setting_specs:
            value = self.cleaned_data.get(f"{SETTING}{spec.name}")
            if spec.kind == "boolean":
                values[spec.name] = bool(value)
            elif value is None or value == "":
                if spec.has_default:
                    values[spec.name] = spec.default
                elif not spec.required:
                    values[spec.name] = None
            else:
                values[spec.name] = value
        return values

    def secrets(self) -> dict[str, str]:
        """The secrets typed in; blank ones are left out (kept, when editing)."""
        return {
            spec.name: self.cleaned_data[f"{SECRET}{spec.name}"]
            for spec in self.secret_specs
            if self.cleaned_data.get(f"{SECRET}{spec.name}")
        }

    def api_version(self) -> str:
        return str(self.cleaned_data.get("api_version") or "")

    def add_service_errors(self, error: DomainError) -> None:
        """A service's field errors next to the matching field; the rest above the form."""
        if not error.field_errors:
            self.add_error(None, error.message)
            return
        for field, messages in error.field_errors.items():
            target: str | None
            if field.startswith("settings."):
                target = f"{SETTING}{field.split('.', 2)[1]}"
            elif field.startswith("secrets."):
                target = f"{SECRET}{field.split('.', 2)[1]}"
            else:
                target = field
            if target not in self.fields:
                target = None
                messages = [f"{field}: {m}" for m in messages]
            for message in messages:
                self.add_error(target, message)


class MappingTargetsForm(forms.Form):
    """The warehouse and the sales channel a connection maps to."""

    warehouse = ConnectionForm.base_fields["warehouse"]
    sales_channel = ConnectionForm.base_fields["sales_channel"]


class SkuMappingForm(forms.Form):
    sku = forms.CharField(max_length=255, label="SKU in the tool")
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(is_active=True),
        label="Product here",
        widget=forms.HiddenInput,
        error_messages={"required": "Pick a product.", "invalid_choice": "Pick an active product."},
    )


class SubscriptionForm(forms.Form):
    url = forms.URLField(
        max_length=500,
        label="Endpoint URL",
        assume_scheme="https",
        help_text="We POST each event here, signed per the Standard Webhooks spec.",
    )
    topics = forms.CharField(
        label="Topics",
        help_text="Topic patterns, separated by commas or spaces: sales.* inventory.level_changed",
        widget=forms.TextInput(attrs={"placeholder": "sales.* inventory.level_changed"}),
    )
    description = forms.CharField(max_length=200, required=False, label="Description")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def clean_topics(self) -> list[str]:
        raw = self.cleaned_data["topics"]
        topics = [t for t in raw.replace(",", " ").split() if t]
        if not topics:
            raise forms.ValidationError("At least one topic pattern.")
        return topics


def add_domain_errors(form: forms.Form, error: DomainError) -> None:
    """A service's field errors next to a field of the form when it has one; the rest above it."""
    if not error.field_errors:
        form.add_error(None, error.message)
        return
    for field, messages in error.field_errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{field}: {message}")


class OwnershipForm(forms.Form):
    """One ownership rule of a connection: who owns a data type at a location (or everywhere).

    The choices are the data types the connection's connector touches and the active warehouses;
    the rest (a location for data that has none) is the service's to refuse, next to the field."""

    data_type = forms.ChoiceField(
        label="Data",
        error_messages={
            "required": "Choose the data the rule is about.",
            "invalid_choice": "Choose one of the data this connection sends or takes.",
        },
    )
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label="every location",
        label="Location",
        error_messages={"invalid_choice": "Choose one of the active warehouses, or every location."},
    )
    owner = forms.ChoiceField(
        label="Owner",
        error_messages={
            "required": "Choose who owns it.",
            "invalid_choice": "Choose the hub or the tool.",
        },
    )

    def __init__(
        self,
        *args: Any,
        data_types: list[tuple[str, str]],
        tool_label: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        data_type: Any = self.fields["data_type"]
        data_type.choices = data_types
        owner: Any = self.fields["owner"]
        owner.choices = [("hub", "the hub"), ("tool", tool_label)]


class FieldOwnersForm(forms.Form):
    """Who owns each customer field a CRM keeps (``integrations.ownership.customer_fields``): one choice per
    field that may have more than one owner; the service checks the rest."""

    OWNER_LABELS = {"hub": "the hub", "tool": "the tool", "latest": "the last writer"}

    def __init__(self, *args: Any, rules: list[Any], tool_label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {**self.OWNER_LABELS, **({"tool": tool_label} if tool_label else {})}
        for rule in rules:
            if len(rule.choices) > 1:
                self.fields[rule.field] = forms.ChoiceField(
                    label=rule.label,
                    choices=[(c.value, labels[c.value]) for c in rule.choices],
                    initial=rule.owner.value,
                    error_messages={"invalid_choice": "Choose the hub, the tool or the last writer."},
                    widget=forms.Select(attrs={"aria-label": f"Owner of {rule.label.lower()}"}),
                )


class ValueMappingForm(forms.Form):
    """One value mapping of a kind: ours (a choice of our values) -> the tool's (a choice of what the
    tool lists, several where the kind takes several, or free text where the tool lists none).

    The choices come from the view (``integrations.mappings``: ``our_choices``, ``tool_choices``);
    the service checks the rest (the kind is the connector's, the value is one the tool has)."""

    our_value = forms.CharField(max_length=255, label="Ours")
    tool_value = forms.CharField(max_length=255, label="The tool's")

    def __init__(
        self,
        *args: Any,
        ours: list[tuple[str, str]],
        theirs: list[tuple[str, str]],
        several: bool = False,
        form_id: str = "",
        label: str = "value",
        tool: str = "the tool",
        ours_label: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if ours:
            self.fields["our_value"] = forms.ChoiceField(
                label="Ours",
                choices=[("", "— choose —"), *ours],
                error_messages={"required": "Choose one of ours.", "invalid_choice": "Choose one of ours."},
            )
        if theirs:
            messages = {
                "required": "Choose one of the tool's.",
                "invalid_choice": "Choose one the tool has.",
            }
            self.fields["tool_value"] = (
                forms.MultipleChoiceField(label="The tool's", choices=theirs, error_messages=messages)
                if several
                else forms.ChoiceField(
                    label="The tool's", choices=[("", "— choose —"), *theirs], error_messages=messages
                )
            )
        elif several:
            self.fields["tool_value"].help_text = "Several: separate them with commas."
        # The fields sit in a table row, outside their <form>: tied to it by its id, named for a reader.
        # ours_label names our side where it differs from the tool's (our warehouse -> its location)
        names = {"our_value": f"Our {ours_label or label}", "tool_value": f"{label.capitalize()} in {tool}"}
        for name, field in self.fields.items():
            field.widget.attrs["aria-label"] = names[name]
            if form_id:
                field.widget.attrs["form"] = form_id

    def clean_tool_value(self) -> str:
        value = self.cleaned_data["tool_value"]
        return ",".join(value) if isinstance(value, list) else str(value).strip()


class _ChannelChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} (sells from {obj.warehouse.code})"


class FulfilmentRuleForm(forms.Form):
    """Who ships the orders of a warehouse (of one channel, or of every channel): a shipping tool or
    3PL connection, or the warehouse's own staff. The channel must sell from the warehouse; the
    service refuses it next to the field otherwise."""

    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(is_active=True).order_by("code"),
        label="Warehouse",
        error_messages={
            "required": "Choose the warehouse the orders ship from.",
            "invalid_choice": "Choose one of the active warehouses.",
        },
    )
    channel = _ChannelChoice(
        queryset=SalesChannel.objects.filter(is_active=True).select_related("warehouse").order_by("name"),
        required=False,
        empty_label="every channel",
        label="Orders of",
        error_messages={"invalid_choice": "Choose one of the active channels, or every channel."},
    )
    connection = forms.ModelChoiceField(
        queryset=Connection.objects.none(),
        required=False,
        empty_label="shipped here (our own staff)",
        label="Shipped by",
        error_messages={"invalid_choice": "Choose a shipping tool or 3PL connection, or shipped here."},
    )

    def __init__(self, *args: Any, shippers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if shippers is not None:
            field = self.fields["connection"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = shippers
