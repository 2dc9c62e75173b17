"""The form helpers (web/forms.py, the templates' ``forms``): every POST form of every
page keeps the CSRF field as its first field (asgi-csrf reads a form only that far),
whether its fields come from the helpers or are written out; and the helpers write what
a field written by hand would, escaping every value (text from outside as text)."""

from __future__ import annotations

import re

from markupsafe import Markup

from cvdesk.domain.accounts import LinkPurpose
from cvdesk.web.render import Renderer
from tests.web.account_helpers import mweb  # noqa: F401  (fixture)
from tests.web.conftest import CASE, Web

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
FIELD = re.compile(r"<(input|select|textarea|button)\b([^>]*)>", re.S)


def post_forms(html: str) -> list[str]:
    return [body for attrs, body in FORM.findall(html) if 'method="post"' in attrs]


def test_the_csrf_field_is_the_first_field_of_every_post_form(mweb: Web) -> None:  # noqa: F811
    coord = mweb.login("coord@test.example")
    admin = mweb.login("admin@test.example")
    vendor = mweb.login("vendor@test.example")
    anon = mweb.fresh()
    user = mweb.desk.accounts().find_user("vendor@test.example")
    assert user is not None
    invite = mweb.desk.accounts().issue_link(LinkPurpose.INVITE, user_id=user.id,
                                             case_id=CASE)
    pages = [(coord, f"/cases/{CASE}"), (coord, f"/cases/{CASE}/act"), (coord, "/account"),
             (coord, f"/cases/{CASE}/advisory/preview"), (vendor, f"/cases/{CASE}"),
             (admin, "/admin/users"), (anon, "/login"), (anon, "/report"),
             (anon, "/password/reset"), (anon, f"/invite/{invite}"), (coord, "/")]
    seen = 0
    for client, path in pages:
        r = client.get(path)
        assert r.status_code == 200, path
        for body in post_forms(r.text):
            first = FIELD.search(body)
            assert first is not None, (path, body[:200])
            assert first.group(1) == "input" and 'name="csrftoken"' in first.group(2), \
                (path, body[:300])
            seen += 1
    assert seen >= 20  # the case page alone has a dozen


def test_the_helpers_write_fields_as_written_by_hand(mweb: Web) -> None:  # noqa: F811
    env = Renderer(mweb.desk).env
    page = env.from_string(
        '{{ forms.csrf("t") }}'
        '{{ forms.field("Name <i>", "name", maxlength=500, required=true, value=v, '
        'aria_label="x", hidden=false, extra=mark) }}'
        '{{ forms.textarea("Note", "text", rows=3, value=v) }}'
        '{{ forms.select("Pick", "p", ["a", ("b", "B & b")], selected="b") }}')
    html = page.render(v='"><script>', mark=Markup(' class="invalid"'))
    assert html.startswith('<input type="hidden" name="csrftoken" value="t">')
    assert ('<label>Name &lt;i&gt; <input type="text" name="name" maxlength="500" required '
            'value="&#34;&gt;&lt;script&gt;" aria-label="x" class="invalid"></label>') in html
    assert ('<label>Note <textarea name="text" rows="3">&#34;&gt;&lt;script&gt;</textarea>'
            '</label>') in html
    assert re.sub(r"\s+", " ", html).endswith(
        '<label>Pick <select name="p"> <option value="a">a</option><option value="b" selected>'
        'B &amp; b</option> </select> </label>')


def test_a_select_with_a_block_gives_its_own_options(mweb: Web) -> None:  # noqa: F811
    env = Renderer(mweb.desk).env
    page = env.from_string(
        '{% call forms.select("Vulnerability", "v", extra=mark) %}'
        '{% for x in xs %}<option value="{{ x }}">{{ x }}</option>{% endfor %}{% endcall %}')
    html = page.render(xs=["V1", "<b>"], mark=" not markup")
    assert html == ('<label>Vulnerability\n  <select name="v" not markup>\n'
                    '<option value="V1">V1</option><option value="&lt;b&gt;">&lt;b&gt;</option>'
                    '  </select>\n</label>')
