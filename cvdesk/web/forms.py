"""The markup of a form's fields, written once (issue 11), as the templates' global
``forms``:

- ``forms.csrf(csrftoken)``: the CSRF field, which must be the FIRST field of every POST
  form (asgi-csrf reads the form only that far);
- ``forms.field(label, name, type="text", extra="", **attributes)``: a labelled input;
- ``forms.textarea(label, name, value="", extra="", **attributes)``;
- ``forms.select(label, name, options, selected=None, extra="")``: options are values or
  (value, text) pairs; called with a block (``{% call forms.select(...) %}``) the block
  gives the options instead.

Attributes come out in the order given: True writes the bare name (``required``), None
and False leave it out, "_" in a name becomes "-" (aria_label -> aria-label).  ``extra``
is markup appended to the input's attributes (the case forms' invalid-field marker).
Every value is escaped, as the template would (text as text, ``Markup`` as it is).

These were Jinja macros; a case page shows a hundred fields or more to a coordinator,
and two macro calls per field were a third of the page's rendering (issue 11, speed).
The markup is the same, character for character.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from markupsafe import Markup, escape


def _attributes(values: dict[str, Any]) -> str:
    out = []
    for key, value in values.items():
        if value is True:
            out.append(f" {escape(key.replace('_', '-'))}")
        elif value is not None and value is not False:
            out.append(f' {escape(key.replace("_", "-"))}="{escape(value)}"')
    return "".join(out)


def csrf(token: Any) -> Markup:
    return Markup(f'<input type="hidden" name="csrftoken" value="{escape(token)}">')


def field(label: Any, name: Any, type: Any = "text", extra: Any = "",
          **attributes: Any) -> Markup:
    return Markup(f'<label>{escape(label)} <input type="{escape(type)}" name="{escape(name)}"'
                  f"{_attributes(attributes)}{escape(extra)}></label>")


def textarea(label: Any, name: Any, value: Any = "", extra: Any = "",
             **attributes: Any) -> Markup:
    return Markup(f'<label>{escape(label)} <textarea name="{escape(name)}"'
                  f"{_attributes(attributes)}{escape(extra)}>{escape(value)}</textarea></label>")


def select(label: Any, name: Any, options: Iterable[Any] = (), selected: Any = None,
           extra: Any = "", caller: Callable[[], Any] | None = None) -> Markup:
    if caller is not None:
        inside = str(escape(caller()))
    else:
        parts = []
        for option in options:
            value, text = (option, option) if isinstance(option, str) else option
            chosen = " selected" if selected is not None and value == selected else ""
            parts.append(f'<option value="{escape(value)}"{chosen}>{escape(text)}</option>')
        inside = "".join(parts)
    return Markup(f'<label>{escape(label)}\n  <select name="{escape(name)}"{escape(extra)}>\n'
                  f"{inside}  </select>\n</label>")


class Forms:
    """The namespace templates know as ``forms``."""

    csrf = staticmethod(csrf)
    field = staticmethod(field)
    textarea = staticmethod(textarea)
    select = staticmethod(select)
