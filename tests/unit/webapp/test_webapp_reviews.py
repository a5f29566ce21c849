
"""Write a review: CSRF, validation messages beside fields, kept values, honeypot, rate limit, plain-text storage."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from catalog import Catalog
from tests.unit.webapp.webapp_testdata import EVIL, GHC, HOSTILE, csrf_token

# Each test runs with the catalog on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends

GOOD = {
    "rating": "4",
    "category": "academics",
    "author_role": "graduate",
    "title": "Solid coding courses",
    "body": "The coding courses were demanding and the instructors knew the RHIT exam inside out.",
}


def form_page(client, unitid=GHC):
    page = client.get(f"/institutions/{unitid}/review")
    assert page.status_code == 200
    return page.text


def submit(client, data, unitid=GHC, *, token=True, addr="10.0.0.1"):
    payload = dict(data)
    if token:
        payload["csrf_token"] = csrf_token(form_page(client, unitid))
    return client.post(f"/institutions/{unitid}/review", data=payload, environ_base={"REMOTE_ADDR": addr})


def stored(web_settings):
    with Catalog(web_settings.catalog_location) as cat:
        return cat.list_user_reviews(None)


def test_form_has_labels_token_and_a_hidden_honeypot(client):
    html = form_page(client)
    assert "Write a review of Georgia Health College" in html
    for field_id in ("category", "author_role", "title", "body"):
        assert f'<label for="{field_id}">' in html
    assert html.count('type="radio"') == 5 and "<legend>Your rating" in html
    assert csrf_token(html)
    honeypot = html[html.index('class="hp-field"') - 5:html.index('id="website"') + 80]
    assert 'aria-hidden="true"' in honeypot and 'tabindex="-1"' in honeypot


def test_valid_review_lands_as_pending_plain_text(client, web_settings):
    response = submit(client, GOOD)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/institutions/{GHC}/review/thanks")
    thanks = client.get(response.headers["Location"])
    assert "moderator" in thanks.text
    [review] = stored(web_settings)
    assert (review.status, review.rating, review.category, review.author_role) == ("pending", 4, "academics", "graduate")
    assert review.title == GOOD["title"] and review.body == GOOD["body"]
    assert review.institution_name == "Georgia Health College" and review.client_hash
    assert "10.0.0.1" not in review.client_hash  # only a keyed hash of the address is kept
    # Pending reviews are not on the page yet.
    assert "Solid coding courses" not in client.get(f"/institutions/{GHC}").text


def test_hostile_text_is_stored_verbatim_and_never_rendered_raw(client, web_settings):
    data = dict(GOOD, title=f"T {HOSTILE}", body=f"Body {HOSTILE} and more words to pass the length check.")
    assert submit(client, data).status_code == 302
    [review] = stored(web_settings)
    assert review.body.startswith(f"Body {HOSTILE}")  # plain text, not sanitised HTML


def test_missing_csrf_token_is_refused_and_keeps_what_was_typed(client, web_settings):
    response = submit(client, GOOD, token=False)
    assert response.status_code == 400
    assert "Your text is still here" in response.text
    assert GOOD["body"] in response.text and f'value="{GOOD["title"]}"' in response.text
    assert csrf_token(response.text)  # a fresh token to send again
    assert stored(web_settings) == []
    forged = client.post(f"/institutions/{GHC}/review", data=dict(GOOD, csrf_token="forged"))
    assert forged.status_code == 400 and stored(web_settings) == []


def test_validation_messages_sit_beside_fields_and_values_are_kept(client, web_settings):
    data = {"rating": "", "category": "", "author_role": "graduate", "title": "x" * 130,
            "body": "Too short <b>really</b>"}
    response = submit(client, data)
    assert response.status_code == 422
    html = response.text
    assert 'role="alert"' in html and "everything you typed is still here" in html
    assert '<p class="field-error" id="title-error">' in html and "120 characters or fewer" in html
    assert '<p class="field-error" id="body-error">' in html and "at least 30 characters" in html
    assert "Choose a rating" in html and "Choose what your review is about" in html
    assert re.search(r'<input id="title" name="title"[^>]*value="x{130}"[^>]*aria-describedby="title-hint title-error" aria-invalid="true"', html)
    assert "Too short &lt;b&gt;really&lt;/b&gt;</textarea>" in html
    assert '<option value="graduate" selected>' in html
    assert stored(web_settings) == []


def test_invalid_choices_and_blank_text_are_refused(client, web_settings):
    for bad in ({"rating": "9"}, {"category": "hacking"}, {"author_role": "admin"},
                {"body": "\u200b" * 40}, {"title": "   "}):
        response = submit(client, dict(GOOD, **bad))
        assert response.status_code == 422, bad
    assert stored(web_settings) == []


def test_control_characters_are_removed_from_stored_text(client, web_settings):
    body = "Line one\r\nLine two\x00 with a \u202eright-to-left trick and enough words."
    assert submit(client, dict(GOOD, body=body)).status_code == 302
    [review] = stored(web_settings)
    assert review.body == "Line one\nLine two with a right-to-left trick and enough words."


def test_honeypot_pretends_success_and_stores_nothing(client, web_settings):
    response = submit(client, dict(GOOD, website="http://spam.example"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/review/thanks")
    assert stored(web_settings) == []


def test_rate_limit_per_client_keeps_the_text(client, web_settings):
    for i in range(3):  # REVIEW_RATE_LIMIT is 3 in these tests
        assert submit(client, dict(GOOD, title=f"Review {i}")).status_code == 302
    blocked = submit(client, dict(GOOD, title="One too many"))
    assert blocked.status_code == 429
    assert "try again later" in blocked.text and 'value="One too many"' in blocked.text
    assert len(stored(web_settings)) == 3
    other = submit(client, dict(GOOD, title="Another student"), addr="10.0.0.2")
    assert other.status_code == 302 and len(stored(web_settings)) == 4


def test_review_of_unknown_school_is_404(client):
    assert client.get("/institutions/424242/review").status_code == 404
    assert client.get("/institutions/%3Cx%3E/review").status_code == 404


def test_form_for_hostile_school_escapes_its_name(client):
    html = form_page(client, EVIL)
    assert "<script>alert(1)</script>" not in html
    assert html_lib.escape("<script>alert(1)</script>", quote=False) in html
