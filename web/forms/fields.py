"""A form's JSON Schema turned into a tree of fields (widget, label, hint, value, error) for the templates.

Field names are the paths the engine reports errors at ("item9", "help_contacts/0/name"), so an error
from `runtime.complete_task` lands on its field without translation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from .schema import (
    MISSING,
    Choice,
    Condition,
    choices,
    condition_hint,
    condition_json,
    conditions,
    humanize,
    ordered,
    resolve,
    type_of,
    wire,
)

ROW = "__index__"  # stands for a row number in the blank row the browser copies
RADIO_LIMIT = 6  # more choices than this become a drop-down list
TEXTAREA_FROM = 300  # strings allowed longer than this get a text area


@dataclass
class Field:
    path: str
    label: str
    kind: str  # text email date datetime textarea number radio select yesno checkbox checkboxes list object hidden
    required: bool = False
    value: Any = MISSING
    error: str | None = None
    hint: str | None = None
    placeholder: str | None = None
    options: list[Choice] = dc_field(default_factory=list)
    attrs: dict = dc_field(default_factory=dict)
    children: list[Field] = dc_field(default_factory=list)  # an object's fields, or a list's rows
    template: Field | None = None  # a list's blank row
    item_label: str = ""
    min_items: int = 0
    max_items: int | None = None
    show_if: str | None = None  # JSON the browser evaluates; None when always shown
    scope: str = ""  # path of the object the condition reads
    condition_hint: str | None = None
    readonly: bool = False
    row_number: int | None = None  # a list's row: its number (None in the blank row the browser copies)
    is_row: bool = False
    row_label: str = ""  # a row's label without its number, which the browser renumbers

    @property
    def optional(self) -> bool:
        """Marked "(optional)" beside its label: most clinical fields are required, so mark the few that are not."""
        return not self.required and not self.is_row and self.kind != "hidden"

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path.replace("/", "--"))

    @property
    def text(self) -> str:
        text = wire(self.value)
        if self.kind == "datetime" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d.*", text):
            return text[:16]  # what <input type=datetime-local> shows
        return text

    def checked(self, choice: Choice) -> bool:
        if isinstance(self.value, list):
            return choice.value in {wire(v) for v in self.value}
        return self.value is not MISSING and wire(self.value) == choice.value

    @property
    def inline(self) -> bool:
        """Short answers (yes/no, a few words) sit on one line; longer ones stack."""
        return self.kind == "yesno" or (0 < len(self.options) <= 4 and max(len(o.label) for o in self.options) <= 12)

    @property
    def add_label(self) -> str:
        label = self.item_label
        if label[:1].isupper() and label[1:2].islower():
            label = label[:1].lower() + label[1:]
        return f"Add {'another ' if self.children else 'an ' if label[:1] in 'aeiou' else 'a '}{label}"

    @property
    def described_by(self) -> str:
        ids = []
        if self.hint or self.condition_hint:
            ids.append(self.id + "-hint")
        if self.error:
            ids.append(self.id + "-error")
        return " ".join(ids)

    @property
    def first_input_id(self) -> str:
        """Where a link in the error summary should take the reader."""
        if self.kind in ("radio", "yesno", "checkboxes") and self.options:
            return f"{self.id}-0"
        if self.kind in ("list", "object"):
            return self.children[0].first_input_id if self.children else self.id + "-add"
        return self.id

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Form:
    title: str
    description: str | None
    fields: list[Field]
    errors: list[tuple[str, str, str]]  # (anchor id, label, message), in the order the fields appear

    def walk(self):
        for f in self.fields:
            yield from f.walk()


def build_form(
    schema: dict,
    ui: dict | None = None,
    values: dict | None = None,
    errors: dict[str, str] | None = None,
    extra_rows: dict[str, int] | None = None,
) -> Form:
    """The field tree for `schema` with `values` filled in and `errors` (path -> message) attached.

    `extra_rows` asks for blank rows to be added to lists (path -> how many): the no-JavaScript "Add"."""
    schema = schema or {"type": "object"}
    builder = _Builder(schema, errors or {}, extra_rows or {})
    fields = builder.object_fields(schema, ui or {}, "", values if isinstance(values, dict) else {})
    form = Form(schema.get("title") or "", schema.get("description"), fields, [])
    placed = set()
    for f in form.walk():
        if f.error:
            form.errors.append((f.first_input_id, f.label, f.error))
            placed.add(f.path)
    for path, message in (errors or {}).items():
        if path not in placed:
            form.errors.append(("", humanize(path.split("/")[-1]) if path else "Form", message))
    return form


class _Builder:
    def __init__(self, root: dict, errors: dict[str, str], extra_rows: dict[str, int]):
        self.root, self.errors, self.extra_rows = root, errors, extra_rows

    def object_fields(self, schema: dict, ui: dict, prefix: str, values: dict) -> list[Field]:
        schema = resolve(schema, self.root)
        props = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        conds = conditions(schema, self.root)
        out = []
        for name in ordered(props, ui if isinstance(ui, dict) else {}):
            sub_ui = ui.get(name) if isinstance(ui, dict) and isinstance(ui.get(name), dict) else {}
            path = f"{prefix}/{name}" if prefix else name
            value = values.get(name, MISSING) if isinstance(values, dict) else MISSING
            if name in conds:
                f = self.field(props[name], sub_ui, path, value, any(c.required for c in conds[name]))
                self._conditional(f, conds[name], props, prefix)
            else:
                f = self.field(props[name], sub_ui, path, value, name in required)
            out.append(f)
        return out

    def _conditional(self, f: Field, conds: list[Condition], props: dict, prefix: str) -> None:
        f.show_if = condition_json(conds, self.root)
        f.scope = prefix
        if not f.hint:  # the form's own words ("Ask only if …") beat a generated sentence
            f.condition_hint = condition_hint(conds, props, self.root)

    def field(self, schema: dict, ui: dict, path: str, value: Any, required: bool, label: str | None = None) -> Field:
        schema = resolve(schema, self.root)
        name = path.split("/")[-1]
        hint = " ".join(t for t in (ui.get("ui:description") or schema.get("description"), ui.get("ui:help")) if t)
        f = Field(
            path=path,
            label=label or ui.get("ui:title") or schema.get("title") or humanize(name),
            kind="text",
            required=required,
            value=value,
            error=self.errors.get(path),
            hint=hint or None,
            placeholder=ui.get("ui:placeholder"),
            readonly=bool(ui.get("ui:readonly") or ui.get("ui:disabled")),
        )
        widget = ui.get("ui:widget")
        kind = type_of(schema)
        options = choices(schema, self.root, ui)
        if widget == "hidden":
            f.kind = "hidden"
        elif kind == "array":
            self._array(f, schema, ui)
        elif kind == "object":
            f.kind = "object"
            f.children = self.object_fields(schema, ui, path, value if isinstance(value, dict) else {})
        elif kind == "boolean":
            self._boolean(f, schema, ui, options)
        elif options:
            f.options = options
            f.kind = "select" if widget == "select" or (widget != "radio" and len(options) > RADIO_LIMIT) else "radio"
        elif kind in ("integer", "number"):
            self._number(f, schema, kind)
        else:
            self._string(f, schema, ui, widget)
        return f

    def _boolean(self, f: Field, schema: dict, ui: dict, options: list[Choice]) -> None:
        # A box that must be ticked ("approved": const true) reads better as one checkbox than as yes/no.
        if ui.get("ui:widget") == "checkbox" or schema.get("const") is True or schema.get("enum") == [True]:
            f.kind = "checkbox"
            return
        f.kind = "yesno"
        names = ui.get("ui:enumNames") or []
        f.options = (
            options
            if len(options) == 2
            else [
                Choice("true", names[0] if len(names) == 2 else "Yes", True),
                Choice("false", names[1] if len(names) == 2 else "No", False),
            ]
        )

    def _number(self, f: Field, schema: dict, kind: str) -> None:
        f.kind = "number"
        f.attrs["step"] = schema.get("multipleOf", 1 if kind == "integer" else "any")
        f.attrs["inputmode"] = "numeric" if kind == "integer" else "decimal"
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if key in schema:
                f.attrs[attr] = schema[key]

    def _string(self, f: Field, schema: dict, ui: dict, widget: str | None) -> None:
        fmt = schema.get("format")
        max_length = schema.get("maxLength")
        if isinstance(max_length, int):
            f.attrs["maxlength"] = max_length
        if widget == "textarea" or (
            widget is None and fmt is None and isinstance(max_length, int) and max_length > TEXTAREA_FROM
        ):
            f.kind = "textarea"
            rows = (ui.get("ui:options") or {}).get("rows") if isinstance(ui.get("ui:options"), dict) else None
            f.attrs["rows"] = rows if isinstance(rows, int) else (6 if (max_length or 0) > 1000 else 3)
        elif widget in ("date", "email") or fmt in ("date", "email"):
            f.kind = widget if widget in ("date", "email") else fmt
        elif fmt == "date-time" or widget == "datetime":
            f.kind = "datetime"
        else:
            f.kind = "text"
            f.attrs["autocomplete"] = "off"

    def _array(self, f: Field, schema: dict, ui: dict) -> None:
        items = resolve(schema.get("items") or {}, self.root)
        items_ui = ui.get("items") if isinstance(ui.get("items"), dict) else {}
        options = choices(items, self.root, items_ui)
        f.min_items = int(schema.get("minItems") or 0)
        f.max_items = schema.get("maxItems")
        if options and type_of(items) != "object":
            f.kind, f.options = "checkboxes", options
            f.value = f.value if isinstance(f.value, list) else []
            return
        f.kind = "list"
        f.item_label = items_ui.get("ui:title") or items.get("title") or _singular(f.label)
        rows = list(f.value) if isinstance(f.value, list) else []
        blanks = max(f.min_items - len(rows), 0 if rows else 1) + max(0, int(self.extra_rows.get(f.path, 0)))
        if f.max_items is not None:
            blanks = max(0, min(blanks, int(f.max_items) - len(rows)))
        rows += [MISSING] * blanks
        f.children = [self._row(items, items_ui, f, i, v) for i, v in enumerate(rows)]
        f.template = self._row(items, items_ui, f, ROW, MISSING)

    def _row(self, items: dict, items_ui: dict, parent: Field, index, value) -> Field:
        number = index + 1 if isinstance(index, int) else None
        label = f"{parent.item_label} {number if number else '__num__'}"
        row = self.field(items, items_ui, f"{parent.path}/{index}", value, False, label=label)
        row.row_number, row.is_row, row.row_label = number, True, parent.item_label
        if row.kind == "object":
            # Inside a row, the row's own required fields are required only once the row is used.
            row.required = False
        return row


def _singular(label: str) -> str:
    """ "Goals" -> "Goal" for a row's label; a long or numbered title gives the plain "Entry"."""
    words = label.split()
    if not words or len(words) > 2 or not words[0][:1].isalpha():
        return "Entry"
    if words[-1].endswith("s") and not words[-1].endswith("ss"):
        words[-1] = words[-1][:-1]
    return " ".join(words)
