"""Forms (Flask-WTF: every one carries a CSRF token) with their server-side validation rules."""

from __future__ import annotations

import unicodedata

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

REVIEW_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("academics", "Academics and teaching"),
    ("financial_aid", "Financial aid and cost"),
    ("value", "Value for money"),
    ("career_services", "Career services and jobs"),
    ("online_learning", "Online learning"),
    ("campus_life", "Campus life"),
    ("support", "Student support and advising"),
    ("other", "Other"),
)
AUTHOR_ROLES: tuple[tuple[str, str], ...] = (
    ("current_student", "Current student"),
    ("graduate", "Graduate"),
    ("former_student", "Former student (did not graduate)"),
    ("prospective_student", "Prospective student"),
    ("parent", "Parent or family member"),
    ("faculty_staff", "Faculty or staff"),
)
RATING_CHOICES: tuple[tuple[str, str], ...] = (
    ("5", "5 stars, excellent"), ("4", "4 stars, good"), ("3", "3 stars, average"), ("2", "2 stars, poor"),
    ("1", "1 star, terrible"),
)

TITLE_MAX = 120
BODY_MIN = 30
BODY_MAX = 5000


def clean_text(text: str | None) -> str:
    """Plain text as typed, minus control and invisible formatting characters; newlines kept, ends trimmed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = [ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs")]
    return "".join(kept).strip()


def _not_blank(form: FlaskForm, field: StringField) -> None:
    if field.data is not None and not clean_text(field.data):
        raise ValidationError("This cannot be only spaces or invisible characters.")


class ReviewForm(FlaskForm):
    """A student's review of one institution."""

    class Meta:
        # The CSRF error message is shown beside the submit button, in the page's words.
        csrf_field_name = "csrf_token"

    rating = RadioField("Your rating", choices=[SelectChoice(v, label) for v, label in RATING_CHOICES],
                        validators=[InputRequired(message="Choose a rating from 1 to 5 stars.")])
    category = SelectField("What is your review mostly about?",
                           choices=[SelectChoice(v, label) for v, label in (("", "Choose a topic"),
                                                                             *REVIEW_CATEGORIES)],
                           validators=[DataRequired(message="Choose what your review is about.")])
    author_role = SelectField("You are a",
                              choices=[SelectChoice(v, label) for v, label in (("", "Choose one"), *AUTHOR_ROLES)],
                              validators=[DataRequired(message="Tell readers how you know the school.")])
    title = StringField("Title", validators=[
        DataRequired(message="Give your review a short title."),
        Length(max=TITLE_MAX, message=f"Keep the title to {TITLE_MAX} characters or fewer."),
        _not_blank,
    ])
    body = TextAreaField("Your review", validators=[
        DataRequired(message="Write your review."),
        # The minimum is checked on the cleaned text in validate_body (one message, not two).
        Length(max=BODY_MAX, message=f"Keep your review to {BODY_MAX:,} characters or fewer."),
        _not_blank,
    ])
    # Honeypot: hidden from people (CSS and aria-hidden), irresistible to form-filling bots.
    website = StringField("Leave this field empty", validators=[Optional()])

    def validate_body(self, field: TextAreaField) -> None:
        """Length counted on the cleaned text, as stored."""
        length = len(clean_text(field.data))
        if field.data and length < BODY_MIN:
            raise ValidationError(f"Write at least {BODY_MIN} characters (you wrote {length}).")


class LoginForm(FlaskForm):
    """The admin password."""

    password = PasswordField("Admin password", validators=[DataRequired(message="Enter the admin password.")])


class ActionForm(FlaskForm):
    """A form with only a CSRF token: approve, reject, log out, sync now."""

    note = StringField("Note", validators=[Optional(), Length(max=500)])
