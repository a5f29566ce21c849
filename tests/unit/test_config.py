"""The settings table: parsing, precedence, clear errors, and documentation in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from collegesearch.config import SETTINGS, ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_load():
    s = load_settings(env={}, config_file=None)
    assert s.WEB_PORT == 5000
    assert s.catalog_path == Path("./data/catalog.sqlite3")
    assert s.index_dir == Path("./data/index")
    assert "bls_ooh" in s.SOURCES
    assert s.ADMIN_PASSWORD_HASH is None
    assert s.CONTACT_URL in s.user_agent


def test_env_overrides_and_types():
    s = load_settings(env={"COLLEGESEARCH_WEB_PORT": "8080", "COLLEGESEARCH_AUTOTHROTTLE": "no",
                           "COLLEGESEARCH_SOURCES": "bls_ooh, reviews", "COLLEGESEARCH_DATA_DIR": "/tmp/x"},
                      config_file=None)
    assert s.WEB_PORT == 8080 and s.AUTOTHROTTLE is False
    assert s.SOURCES == ("bls_ooh", "reviews")
    assert s.catalog_path == Path("/tmp/x/catalog.sqlite3")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEB_PORT", "abc", "WEB_PORT must be a whole number"),
        ("WEB_PORT", "70000", "must be from 1 to 65535"),
        ("AUTOTHROTTLE", "maybe", "must be true or false"),
        ("SCHEDULE_REVIEWS", "every day", "cron expression"),
        ("SCHEDULE_REVIEWS", "99 * * * *", "not a valid cron expression"),
        ("SCHEDULE_TIMEZONE", "Mars/Olympus", "IANA time zone"),
        ("LOG_LEVEL", "LOUD", "must be one of"),
        ("SAMPLE_SITE_URL", "ftp://x", "must be a URL"),
        ("CRAWL_MAX_ERROR_RATE", "2", "must be from 0 to 1"),
    ],
)
def test_bad_values_give_one_line_errors(name, value, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(env={f"COLLEGESEARCH_{name}": value}, config_file=None)
    assert "\n" not in str(info.value)


def test_config_file_then_env(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('web_port = 7000\nlog_level = "DEBUG"\n')
    s = load_settings(env={"COLLEGESEARCH_WEB_PORT": "7001"}, config_file=str(cfg))
    assert s.WEB_PORT == 7001 and s.LOG_LEVEL == "DEBUG"


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={}, config_file=str(tmp_path / "nope.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("web_port = [unclosed\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env={}, config_file=str(bad))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(env={}, config_file=str(unknown))


def test_env_config_pointer(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("web_workers = 2\n")
    assert load_settings(env={"COLLEGESEARCH_CONFIG": str(cfg)}).WEB_WORKERS == 2


def test_replace_validates():
    s = load_settings(env={}, config_file=None)
    assert s.replace(WEB_PORT=1234).WEB_PORT == 1234
    with pytest.raises(ConfigError):
        s.replace(WEB_PORT="x")


def test_every_setting_is_documented_in_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [s.env for s in SETTINGS if s.env not in readme]
    assert not missing, f"README lacks {missing}"


def test_cron_weekdays_follow_crontab():
    from ops.cron import cron_fields

    # crontab: 0 and 7 are Sunday (APScheduler 3.x alone would read 0 as Monday)
    assert cron_fields("0 4 * * 0")["day_of_week"] == "sun"
    assert cron_fields("0 4 * * 7")["day_of_week"] == "sun"
    assert cron_fields("0 4 * * 1-5")["day_of_week"] == "mon,tue,wed,thu,fri"
    assert cron_fields("*/5 0 4 * * *")["second"] == "*/5"
    s = load_settings(env={"COLLEGESEARCH_SCHEDULE_REVIEWS": "0 4 * * 7"}, config_file=None)
    assert s.SCHEDULE_REVIEWS == "0 4 * * 7"
    with pytest.raises(ConfigError, match="not a valid cron"):
        load_settings(env={"COLLEGESEARCH_SCHEDULE_REVIEWS": "0 4 * * 8"}, config_file=None)
