"""The revisit interval arithmetic (Nutch's adaptive schedule) and its settings, per source."""

from __future__ import annotations

import pytest

from collegesearch.config import ConfigError, load_settings
from model.revisit import RevisitPolicy, format_duration, parse_duration, parse_spec
from model.sites import ProfileError, site_fields

HOUR, DAY = 3600, 86400


def test_durations() -> None:
    assert parse_duration("90") == 90 and parse_duration(90) == 90
    assert parse_duration("90m") == 5400 and parse_duration("6h") == 6 * HOUR and parse_duration("30d") == 30 * DAY
    assert parse_duration("2w") == 14 * DAY and parse_duration("1.5h") == 5400 and parse_duration(" 6H ") == 6 * HOUR
    for bad in ("", "six hours", "-1h", "0", "11000d", True, "6 hours"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert [format_duration(s) for s in (21600, 30 * DAY, 5400, 45, 14 * DAY)] == ["6h", "30d", "90m", "45s", "14d"]


def test_first_interval_then_grow_when_unchanged() -> None:
    policy = RevisitPolicy(min_seconds=6 * HOUR, max_seconds=30 * DAY, first_seconds=DAY, grow=0.4, shrink=0.2)
    assert policy.next_interval(None, changed=True) == DAY  # a new page starts at the first interval
    assert policy.next_interval(0, changed=False) == DAY
    assert policy.next_interval(DAY, changed=False) == round(DAY * 1.4)
    interval, visits = DAY, 0
    while interval < 30 * DAY:
        interval = policy.next_interval(interval, changed=False)
        visits += 1
    assert interval == 30 * DAY and visits == 11  # 1.4 ** 11 > 30 > 1.4 ** 10: clamped at the maximum
    assert policy.next_interval(30 * DAY, changed=False) == 30 * DAY


def test_shrink_when_changed_down_to_the_minimum() -> None:
    policy = RevisitPolicy(min_seconds=6 * HOUR, max_seconds=30 * DAY, first_seconds=DAY, grow=0.4, shrink=0.2)
    assert policy.next_interval(DAY, changed=True) == round(DAY * 0.8)
    assert policy.next_interval(7 * HOUR, changed=True) == 6 * HOUR  # 5.6 h, held at the minimum
    assert policy.next_interval(6 * HOUR, changed=True) == 6 * HOUR
    # a first interval outside the bounds is held inside them too
    assert RevisitPolicy(min_seconds=DAY, max_seconds=2 * DAY, first_seconds=HOUR).next_interval(None, changed=False) == DAY


def test_min_above_max_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than the maximum"):
        RevisitPolicy(min_seconds=2 * DAY, max_seconds=DAY)


def test_spec_overrides() -> None:
    assert parse_spec("min=1h max=7d") == {"min": HOUR, "max": 7 * DAY}
    assert parse_spec("first=6h, grow=0.5; shrink=0.3") == {"first": 6 * HOUR, "grow": 0.5, "shrink": 0.3}
    assert parse_spec("  ") == {}
    for bad, word in (("min", "key=value"), ("often=1h", "key=value"), ("grow=2", "grow"), ("shrink=1", "shrink"),
                      ("min=soon", "duration"), ("grow=x", "grow")):
        with pytest.raises(ValueError, match=word):
            parse_spec(bad)
    policy = RevisitPolicy().overridden("min=1h max=7d first=2h")
    assert (policy.min_seconds, policy.max_seconds, policy.first_seconds, policy.grow) == (HOUR, 7 * DAY, 2 * HOUR, 0.4)
    assert RevisitPolicy().overridden(None) == RevisitPolicy() == RevisitPolicy().overridden("")
    assert policy.describe() == "min=1h max=7d first=2h grow=0.4 shrink=0.2"


def test_settings_per_source_override() -> None:
    settings = load_settings(env={"COLLEGESEARCH_REVISIT_MIN": "2h", "COLLEGESEARCH_REVISIT_FIRST": "12h",
                                  "COLLEGESEARCH_REVISIT_REVIEWS": "min=30m max=2d"}, config_file=None)
    assert settings.REVISIT_MIN == 2 * HOUR and settings.REVISIT_MAX == 30 * DAY
    default = settings.revisit_policy("bls_ooh")
    assert (default.min_seconds, default.first_seconds, default.max_seconds) == (2 * HOUR, 12 * HOUR, 30 * DAY)
    reviews = settings.revisit_policy("reviews")
    assert (reviews.min_seconds, reviews.max_seconds, reviews.first_seconds) == (1800, 2 * DAY, 12 * HOUR)
    # a user's site: its profile's `revisit`
    site = settings.revisit_policy("mysite", "max=3d")
    assert (site.min_seconds, site.max_seconds) == (2 * HOUR, 3 * DAY)
    assert settings.revisit_policy("mysite", "").max_seconds == 30 * DAY


def test_bad_revisit_settings_name_the_setting() -> None:
    with pytest.raises(ConfigError, match="COLLEGESEARCH_REVISIT_MIN must be a duration"):
        load_settings(env={"COLLEGESEARCH_REVISIT_MIN": "often"}, config_file=None)
    with pytest.raises(ConfigError, match="COLLEGESEARCH_REVISIT_DIRECTORY"):
        load_settings(env={"COLLEGESEARCH_REVISIT_DIRECTORY": "min=2d max=1d"}, config_file=None)
    with pytest.raises(ConfigError, match="COLLEGESEARCH_REVISIT_REVIEWS: expected key=value"):
        load_settings(env={"COLLEGESEARCH_REVISIT_REVIEWS": "weekly"}, config_file=None)
    with pytest.raises(ConfigError, match="REVISIT_MIN/REVISIT_MAX"):
        load_settings(env={"COLLEGESEARCH_REVISIT_MIN": "40d"}, config_file=None)
    with pytest.raises(ConfigError, match="REVISIT_GROW"):
        load_settings(env={"COLLEGESEARCH_REVISIT_GROW": "3"}, config_file=None)


def test_site_profile_revisit_key() -> None:
    raw = {"name": "lake", "start_urls": ["https://lake.example.edu/"], "revisit": "min=1h max=7d"}
    assert site_fields("sites.toml", 1, raw)["revisit"] == "min=1h max=7d"
    assert site_fields("sites.toml", 1, {k: v for k, v in raw.items() if k != "revisit"})["revisit"] is None
    with pytest.raises(ProfileError, match="'revisit': expected key=value"):
        site_fields("sites.toml", 1, {**raw, "revisit": "hourly"})
    with pytest.raises(ProfileError, match="'revisit': a string"):
        site_fields("sites.toml", 1, {**raw, "revisit": 3600})
