"""Every collegesearch setting, declared once.

Precedence, lowest first: the default here, the TOML file named by
``COLLEGESEARCH_CONFIG`` (keys are the setting names in lower case), environment
variables ``COLLEGESEARCH_<NAME>``, then explicit overrides passed by the caller
(tests, CLI options). ``load_settings()`` validates everything and raises
``ConfigError`` with a one-line message that says what to fix.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collegesearch import __version__
from model.revisit import RevisitPolicy, parse_duration, parse_spec
from model.sources import BUILTIN_SOURCES, SOURCES
from ops.cron import cron_trigger, has_cron_field_count

ENV_PREFIX = "COLLEGESEARCH_"


class ConfigError(ValueError):
    """A setting is missing, malformed or out of range."""


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, default, parser and help text."""

    name: str
    default: Any
    help: str
    parse: Callable[[str, Any], Any]

    @property
    def env(self) -> str:
        """The environment variable that overrides this setting."""
        return ENV_PREFIX + self.name


def _str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{ENV_PREFIX}{name} must be a string, got {value!r}")
    return value


def _opt_str(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    return _str(name, value)


def _path(name: str, value: Any) -> str:
    text = _str(name, value).strip()
    if not text:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a path, got an empty value")
    return text


def _opt_path(name: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _path(name, value)


def _number_range(convert: Callable[[str], Any], what: str, lo: Any, hi: Any) -> Callable[[str, Any], Any]:
    def parse(name: str, value: Any) -> Any:
        try:
            if isinstance(value, bool):
                raise ValueError
            number = convert(str(value).strip())
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name} must be {what} from {lo} to {hi}, got {value!r}") from None
        if not lo <= number <= hi:
            raise ConfigError(f"{ENV_PREFIX}{name} must be from {lo} to {hi}, got {number}")
        return number

    return parse


def _int_range(lo: int, hi: int) -> Callable[[str, Any], int]:
    return _number_range(int, "a whole number", lo, hi)


def _float_range(lo: float, hi: float) -> Callable[[str, Any], float]:
    return _number_range(float, "a number", lo, hi)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{ENV_PREFIX}{name} must be true or false (1/0, yes/no, on/off), got {value!r}")


def _list(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    elif isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    else:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a comma-separated list, got {value!r}")
    return tuple(item for item in items if item)


def _cron(name: str, value: Any) -> str | None:
    """Validate a five-field cron expression (or empty for "never")."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = _str(name, value).strip()
    if not has_cron_field_count(text):
        raise ConfigError(
            f"{ENV_PREFIX}{name} must be a cron expression with five fields "
            f"(minute hour day month weekday), or six with seconds first, got {value!r}"
        )
    try:
        cron_trigger(text)
    except ImportError:  # pragma: no cover - APScheduler is a pinned dependency
        pass
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name} is not a valid cron expression ({exc}): {value!r}") from None
    return text


def _duration(name: str, value: Any) -> int:
    """A duration in seconds: a number of seconds, or a number with s, m, h, d or w ("6h", "30d")."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a duration such as 6h, 90m or 30d (1 s to 10 years), "
                          f"got {value!r} ({exc})") from None


def _parsed_text(name: str, value: Any, parse: Callable[[str], object],
                 problem: Callable[[ValueError], str]) -> str | None:
    """Optional text that ``parse`` accepts (empty: None); ``problem`` says what is wrong with it otherwise."""
    text = _opt_str(name, value)
    if text is None or not text.strip():
        return None
    try:
        parse(text)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name}{problem(exc)}") from None
    return text.strip()


def _revisit_spec(name: str, value: Any) -> str | None:
    """A source's revisit overrides ("min=1h max=7d"), or empty for the REVISIT_* defaults."""
    return _parsed_text(name, value, parse_spec, lambda exc: f": {exc}")


def _timezone(name: str, value: Any) -> str:
    text = _str(name, value).strip()
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{ENV_PREFIX}{name} must be an IANA time zone such as America/New_York, got {value!r}") from None
    return text


def _choice(*choices: str) -> Callable[[str, Any], str]:
    def parse(name: str, value: Any) -> str:
        text = str(value).strip().upper() if choices[0].isupper() else str(value).strip().lower()
        if text not in choices:
            raise ConfigError(f"{ENV_PREFIX}{name} must be one of {', '.join(choices)}, got {value!r}")
        return text

    return parse


def _url_or_none(name: str, value: Any) -> str | None:
    text = _opt_str(name, value)
    if text is None:
        return None
    if not text.startswith(("http://", "https://", "redis://", "rediss://", "unix://")):
        raise ConfigError(f"{ENV_PREFIX}{name} must be a URL (http://, https:// or redis://), got {value!r}")
    return text.rstrip("/") if text.startswith("http") else text


# RFC 4151's DNSname: labels of letters, digits and inner hyphens (no port, no scheme); the Atom feed
# checks a request's host against it too.
DNS_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")


def _dns_name(name: str, value: Any) -> str | None:
    text = _opt_str(name, value)
    if text is None:
        return None
    text = text.strip().lower()
    if not DNS_NAME.fullmatch(text):
        raise ConfigError(f"{ENV_PREFIX}{name} must be a domain name such as search.example.edu (no scheme or port), "
                          f"got {value!r}")
    return text


def _database_url(name: str, value: Any) -> str | None:
    text = _opt_str(name, value)
    if text is None:
        return None
    text = text.strip()
    if not text.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        raise ConfigError(f"{ENV_PREFIX}{name} must be a PostgreSQL URL (postgresql://user@host/dbname), "
                          f"got {value!r}; leave it unset to keep the catalog in SQLite under DATA_DIR")
    return text


def _rate_limit(name: str, value: Any) -> str | None:
    """A Flask-Limiter limit such as "60 per minute" (several joined by ";"), or empty for no limit."""
    # limits is Flask-Limiter's own parser, so what passes here is exactly what the app can enforce.
    from limits import parse_many

    return _parsed_text(name, value, parse_many, lambda _exc: (
        f" must be a rate limit such as '60 per minute' or '10/second; 500/hour' (empty for none), got {value!r}"))


RATE_LIMIT_STORAGE_SCHEMES = ("memory://", "redis://", "rediss://", "redis+unix://", "redis+sentinel://",
                              "redis+cluster://")


def _rate_limit_storage(name: str, value: Any) -> str | None:
    """Where Flask-Limiter keeps its counters: memory:// or a Redis URL (the drivers we install)."""
    text = _opt_str(name, value)
    if text is None or not text.strip():
        return None
    text = text.strip()
    if not text.startswith(RATE_LIMIT_STORAGE_SCHEMES):
        raise ConfigError(f"{ENV_PREFIX}{name} must be memory:// or a Redis URL (redis://host:6379/0), "
                          f"got {value!r}; leave it unset to use REDIS_URL or each worker's memory")
    return text


def _networks(name: str, value: Any) -> tuple[str, ...]:
    """A list of IP addresses or CIDR networks ("127.0.0.1, 10.0.0.0/8, ::1")."""
    import ipaddress

    items = _list(name, value)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name} must list IP addresses or networks such as 127.0.0.1 or "
                              f"10.0.0.0/8, got {item!r}") from None
    return items


SETTINGS: tuple[Setting, ...] = (
    # Storage
    Setting("DATA_DIR", "./data", "Folder holding the catalog, the index and crawl state.", _path),
    Setting("CATALOG_PATH", None, "SQLite catalog file (default: DATA_DIR/catalog.sqlite3).", _opt_path),
    Setting("DATABASE_URL", None, "PostgreSQL URL of a shared catalog and crawl queue (multi-node mode, see "
            "'Scale out'); unset: SQLite in DATA_DIR.", _database_url),
    Setting("INDEX_DIR", None, "Whoosh index folder (default: DATA_DIR/index).", _opt_path),
    Setting("INDEX_BUILD_PROCS", min(os.cpu_count() or 1, 4),
            "Processes a full index rebuild uses (default: the CPU cores, at most 4); 1 builds in one process. "
            "Catalogs under 2,000 records per process use fewer.", _int_range(1, 64)),
    Setting("FOLLOW_POLL_SECONDS", 5.0, "Seconds between `collegesearch index follow`'s reads of the catalog's change "
            "log when no notice wakes it earlier (PostgreSQL sends one at each commit).", _float_range(0.1, 3600)),
    Setting("LOG_LEVEL", "INFO", "Log level for every component: DEBUG, INFO, WARNING or ERROR.",
            _choice("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting("LOG_FORMAT", "text", "Log line format for every component: text (readable lines) or json (one JSON "
            "object per line with time, level, logger, message and request_id, source or run_id where known).",
            _choice("text", "json")),
    # Crawling
    Setting("SOURCES", ",".join(BUILTIN_SOURCES),
            "Sources `collegesearch crawl` runs when none is named.", _list),
    Setting("SITES_FILE", None, "Optional TOML file of extra site profiles (see README, 'Add a site').", _opt_path),
    Setting("SAMPLE_SITE_URL", "http://127.0.0.1:8800",
            "Base URL of the bundled sample site, which the built-in sources crawl.", _url_or_none),
    Setting("USER_AGENT", "collegesearch/{version} (+{contact})",
            "User-Agent sent by the crawler; {version} is replaced by the package version, {contact} by CONTACT_URL.", _str),
    Setting("CONTACT_URL", "https://github.com/collegesearch/collegesearch#crawler",
            "Where site owners can learn about the crawler and reach its operator.", _str),
    Setting("DOWNLOAD_DELAY", 1.0, "Seconds between requests to one host on real sites.", _float_range(0, 600)),
    Setting("CONCURRENT_REQUESTS_PER_HOST", 1, "Parallel requests per host on real sites.", _int_range(1, 64)),
    Setting("SAMPLE_SITE_CONCURRENCY", 8,
            "Parallel requests per host for the loopback sample site (no politeness delay there).", _int_range(1, 64)),
    Setting("AUTOTHROTTLE", True, "Adapt the delay to each host's response times (real sites).", _bool),
    Setting("CRAWL_TIME_LIMIT", 3600, "Seconds before a crawl is stopped and recorded as failed.", _int_range(10, 7 * 86400)),
    Setting("CRAWL_MAX_ERROR_RATE", 0.5,
            "Share of failed requests (5xx, timeouts) above which a run is recorded as failed.", _float_range(0, 1)),
    Setting("LINK_MIN_SCORE", 90.0, "Fuzzy-match score (0-100) needed to link a review to an institution.",
            _float_range(0, 100)),
    # Freshness: each page's own revisit interval (model/revisit.py)
    Setting("REVISIT_MIN", "6h", "Shortest revisit interval of a page: a scheduled crawl fetches no known page "
            "more often (a duration: 90m, 6h, 30d).", _duration),
    Setting("REVISIT_MAX", "30d", "Longest revisit interval: every known page is fetched at least this often.",
            _duration),
    Setting("REVISIT_FIRST", "1d", "Revisit interval of a page fetched for the first time.", _duration),
    Setting("REVISIT_GROW", 0.4, "After a fetch that finds a page unchanged its interval grows by this share "
            "(interval * (1 + GROW)).", _float_range(0, 1)),
    Setting("REVISIT_SHRINK", 0.2, "After a fetch that finds a page changed its interval shrinks by this share "
            "(interval * (1 - SHRINK)).", _float_range(0, 0.99)),
    Setting("FULL_CRAWL_EVERY", 0, "Every Nth scheduled crawl of a source is a full one, as `crawl --full`: every "
            "page fetched, due or not (0: never; REVISIT_MAX already bounds every page's age).", _int_range(0, 100000)),
    *(Setting(f"REVISIT_{s.name.upper()}", None, f"Revisit overrides for {s.name}: any of min, max, first, grow, "
              "shrink, such as 'min=1h max=7d' (empty: the REVISIT_* settings).", _revisit_spec)
      for s in SOURCES.values()),
    # Scheduling
    Setting("SCHEDULE_TIMEZONE", "America/New_York", "Time zone of the cron schedules.", _timezone),
    *(Setting(f"SCHEDULE_{s.name.upper()}", s.schedule, s.schedule_help, _cron) for s in SOURCES.values()),
    Setting("SCHEDULE_MISFIRE_GRACE", 3600, "Seconds a missed run may start late before it is skipped.",
            _int_range(1, 7 * 86400)),
    Setting("SYNC_AFTER_CRAWL", True, "Sync the search index after each scheduled crawl.", _bool),
    Setting("RETRY_BACKOFF", 300, "Seconds before the first retry of a failed scheduled run; doubles each time.",
            _int_range(1, 86400)),
    Setting("RETRY_MAX", 3, "Retries of a failed scheduled run before the source is reported as failing.",
            _int_range(0, 100)),
    Setting("REDIS_URL", None, "Optional Redis URL: crawl locks shared by several machines (see 'Scale out').",
            _url_or_none),
    Setting("QUEUE_HEARTBEAT", 10.0, "Seconds between a crawl worker's heartbeats in the queue (with DATABASE_URL); "
            "also how often it looks for new and stalled jobs.", _float_range(0.2, 300)),
    Setting("QUEUE_STALLED_TIMEOUT", 60.0, "Seconds without a heartbeat after which a worker counts as dead and its "
            "crawl is retried by another worker (more than twice QUEUE_HEARTBEAT).", _float_range(1, 86400)),
    # Web app
    Setting("WEB_HOST", "127.0.0.1", "Address `collegesearch serve` listens on.", _str),
    Setting("WEB_PORT", 5000, "Port `collegesearch serve` (and the demo) listens on.", _int_range(1, 65535)),
    Setting("WEB_WORKERS", 4, "Worker processes of the production web server.", _int_range(1, 64)),
    Setting("SECRET_KEY", None,
            "Key signing sessions and CSRF tokens (default: generated once into DATA_DIR/secret_key).", _opt_str),
    Setting("ADMIN_PASSWORD_HASH", None,
            "Werkzeug password hash for the admin; admin pages stay disabled until it is set.", _opt_str),
    Setting("SECURE_COOKIES", False, "Send session cookies only over HTTPS (turn on behind TLS).", _bool),
    Setting("PROXY_HOPS", 0, "Reverse proxies in front of the web app whose X-Forwarded-For/-Proto/-Host "
            "headers are trusted (1 behind one nginx; 0 trusts none, so rate limits see the socket's address).",
            _int_range(0, 5)),
    Setting("REVIEW_RATE_LIMIT", 5, "Reviews one client may submit per hour.", _int_range(1, 10000)),
    Setting("LOGIN_RATE_LIMIT", 10, "Admin login attempts one client may make per 15 minutes.", _int_range(1, 10000)),
    Setting("MAX_PER_PAGE", 50, "Largest page size the search API and pages accept.", _int_range(1, 1000)),
    Setting("SEARCH_CACHE_MB", 256, "Memory each web worker may keep of decoded index data (postings, columns, "
            "facet masks, sort orders); the least recently used goes first.", _int_range(8, 65536)),
    Setting("CORS_ORIGINS", (), "Origins allowed to call the JSON API from a browser (none by default).", _list),
    Setting("CACHE_SEARCH_MAX_AGE", 60, "Seconds browsers and proxies may reuse search results and suggestions "
            "(Cache-Control max-age) before revalidating them with the ETag.", _int_range(0, 86400)),
    Setting("CACHE_DETAIL_MAX_AGE", 300, "Seconds browsers and proxies may reuse a career, college, program or "
            "review page (HTML or JSON) and the A-Z listings before revalidating.", _int_range(0, 86400)),
    Setting("CACHE_FEED_MAX_AGE", 300, "Seconds browsers, proxies and feed readers may reuse the change feeds "
            "(/changes, .json, .atom) before revalidating.", _int_range(0, 86400)),
    Setting("FEED_TAG_HOST", None, "Domain name in the Atom entry ids (tag:HOST,DATE:change/N); set it to the "
            "site's public name and never change it, or feed readers see every entry as new (default: the "
            "request's host).", _dns_name),
    Setting("FOLLOW_REVIEW_MIN_RATING", 4, "Stars (1-5) a new review needs to appear in the feed of the school it "
            "reviews (`/changes.atom?institution=UNITID`).", _int_range(1, 5)),
    Setting("READY_MAX_CHANGES_BEHIND", 10000, "/readyz answers 503 when this node's index is more catalog "
            "changes behind than this.", _int_range(0, 100_000_000)),
    Setting("SEARCH_RATE_LIMIT", "60 per minute", "Searches (`/search`, `/search.json`) one client may run, in "
            "Flask-Limiter's syntax (`60 per minute`, `10/second; 500/hour`); empty: no limit.", _rate_limit),
    Setting("API_RATE_LIMIT", "120 per minute", "Requests to `/api/*` one client may make, counted together, in "
            "Flask-Limiter's syntax; empty: no limit.", _rate_limit),
    Setting("RATE_LIMIT_STORAGE_URL", None, "Where search and API rate limits are counted: `memory://` (each worker "
            "alone) or a Redis URL shared by every worker and node (default: REDIS_URL when set, else memory).",
            _rate_limit_storage),
    Setting("METRICS_ALLOW", ("127.0.0.1", "::1"), "Addresses or networks (CIDR) that may read `/metrics` without "
            "logging in; a logged-in admin always may (empty: admins only).", _networks),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The validated settings, one attribute per ``Setting``."""

    DATA_DIR: str
    CATALOG_PATH: str | None
    DATABASE_URL: str | None
    INDEX_DIR: str | None
    INDEX_BUILD_PROCS: int
    FOLLOW_POLL_SECONDS: float
    LOG_LEVEL: str
    LOG_FORMAT: str
    SOURCES: tuple[str, ...]
    SITES_FILE: str | None
    SAMPLE_SITE_URL: str | None
    USER_AGENT: str
    CONTACT_URL: str
    DOWNLOAD_DELAY: float
    CONCURRENT_REQUESTS_PER_HOST: int
    SAMPLE_SITE_CONCURRENCY: int
    AUTOTHROTTLE: bool
    CRAWL_TIME_LIMIT: int
    CRAWL_MAX_ERROR_RATE: float
    LINK_MIN_SCORE: float
    REVISIT_MIN: int
    REVISIT_MAX: int
    REVISIT_FIRST: int
    REVISIT_GROW: float
    REVISIT_SHRINK: float
    FULL_CRAWL_EVERY: int
    REVISIT_BLS_OOH: str | None
    REVISIT_COLLEGENAVIGATOR: str | None
    REVISIT_DIRECTORY: str | None
    REVISIT_REVIEWS: str | None
    SCHEDULE_TIMEZONE: str
    SCHEDULE_BLS_OOH: str | None
    SCHEDULE_COLLEGENAVIGATOR: str | None
    SCHEDULE_DIRECTORY: str | None
    SCHEDULE_REVIEWS: str | None
    SCHEDULE_MISFIRE_GRACE: int
    SYNC_AFTER_CRAWL: bool
    RETRY_BACKOFF: int
    RETRY_MAX: int
    REDIS_URL: str | None
    QUEUE_HEARTBEAT: float
    QUEUE_STALLED_TIMEOUT: float
    WEB_HOST: str
    WEB_PORT: int
    WEB_WORKERS: int
    SECRET_KEY: str | None
    ADMIN_PASSWORD_HASH: str | None
    SECURE_COOKIES: bool
    PROXY_HOPS: int
    REVIEW_RATE_LIMIT: int
    LOGIN_RATE_LIMIT: int
    MAX_PER_PAGE: int
    SEARCH_CACHE_MB: int
    CORS_ORIGINS: tuple[str, ...]
    CACHE_SEARCH_MAX_AGE: int
    CACHE_DETAIL_MAX_AGE: int
    CACHE_FEED_MAX_AGE: int
    FEED_TAG_HOST: str | None
    FOLLOW_REVIEW_MIN_RATING: int
    READY_MAX_CHANGES_BEHIND: int
    SEARCH_RATE_LIMIT: str | None
    API_RATE_LIMIT: str | None
    RATE_LIMIT_STORAGE_URL: str | None
    METRICS_ALLOW: tuple[str, ...]

    @property
    def data_dir(self) -> Path:
        """The data folder as a Path."""
        return Path(self.DATA_DIR)

    @property
    def catalog_path(self) -> Path:
        """Where the SQLite catalog lives."""
        return Path(self.CATALOG_PATH) if self.CATALOG_PATH else self.data_dir / "catalog.sqlite3"

    @property
    def catalog_location(self) -> str | Path:
        """What ``Catalog()`` opens: the PostgreSQL URL when DATABASE_URL is set, else the SQLite file."""
        return self.DATABASE_URL or self.catalog_path

    @property
    def catalog_exists(self) -> bool:
        """Whether there is a catalog to read yet (a PostgreSQL catalog always counts: it says itself what is missing)."""
        return bool(self.DATABASE_URL) or self.catalog_path.exists()

    @property
    def multi_node(self) -> bool:
        """True when the catalog is shared in PostgreSQL (DATABASE_URL set)."""
        return bool(self.DATABASE_URL)

    @property
    def index_dir(self) -> Path:
        """Where the Whoosh index lives."""
        return Path(self.INDEX_DIR) if self.INDEX_DIR else self.data_dir / "index"

    @property
    def user_agent(self) -> str:
        """The User-Agent with the contact URL filled in."""
        return self.USER_AGENT.replace("{version}", __version__).replace("{contact}", self.CONTACT_URL)

    def schedule_for(self, source: str) -> str | None:
        """The cron expression configured for a built-in source, if any."""
        return getattr(self, "SCHEDULE_" + source.upper(), None)

    def revisit_policy(self, source: str, override: str | None = None) -> RevisitPolicy:
        """How a source's pages are revisited: the REVISIT_* settings, then REVISIT_<SOURCE> (built-in
        sources) or ``override`` (a site profile's ``revisit``); ``ConfigError`` when they contradict."""
        spec = override if override is not None else getattr(self, "REVISIT_" + source.upper(), None)
        try:
            return RevisitPolicy(self.REVISIT_MIN, self.REVISIT_MAX, self.REVISIT_FIRST, self.REVISIT_GROW,
                                 self.REVISIT_SHRINK).overridden(spec)
        except ValueError as exc:
            where = f"REVISIT_{source.upper()}" if override is None and spec else "REVISIT_MIN/REVISIT_MAX"
            if override is not None:
                where = f"the revisit of site {source!r}"
            raise ConfigError(f"{ENV_PREFIX}{where}: {exc}") from None

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed (validated like everything else)."""
        merged = {**dataclasses.asdict(self), **changes}
        return load_settings(env={}, config_file=None, overrides=merged)


def _read_config_file(path: str) -> dict[str, Any]:
    file = Path(path)
    try:
        with file.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{ENV_PREFIX}CONFIG points at {path}, which does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not valid TOML: it is not UTF-8 text") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder; point COLLEGESEARCH_CONFIG or --config at a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    values: dict[str, Any] = {}
    section = raw.get("collegesearch", raw)
    for key, value in section.items():
        if isinstance(value, dict):
            continue  # other tables (e.g. [[site]] profiles) belong to their own readers
        name = key.upper()
        if name not in SETTINGS_BY_NAME:
            raise ConfigError(f"config file {path}: unknown setting {key!r} (see README, 'Configuration')")
        values[name] = value
    return values


def load_settings(
    env: Mapping[str, str] | None = None,
    config_file: str | None | bool = True,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read defaults, the config file, the environment and overrides into validated Settings."""
    environ = os.environ if env is None else env
    raw: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    if config_file is True:
        config_file = environ.get(ENV_PREFIX + "CONFIG") or None
    if isinstance(config_file, str):
        raw.update(_read_config_file(config_file))
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
            continue
        name = key[len(ENV_PREFIX):]
        if name in SETTINGS_BY_NAME:
            raw[name] = value
    for name, value in (overrides or {}).items():
        if name not in SETTINGS_BY_NAME:
            raise ConfigError(f"unknown setting {name!r}")
        raw[name] = value
    parsed: dict[str, Any] = {}
    for setting in SETTINGS:
        value = raw[setting.name]
        parsed[setting.name] = value if value is None and setting.default is None else setting.parse(setting.name, value)
    settings = Settings(**parsed)
    for source in SOURCES:  # the bounds and each source's overrides must fit together
        settings.revisit_policy(source)
    return settings


def settings_markdown() -> str:
    """The settings table as Markdown, for the README (``python config.py``)."""
    lines = ["| Environment variable | Default | What it does |", "|---|---|---|"]
    for s in SETTINGS:
        default = ", ".join(s.default) if isinstance(s.default, tuple) else s.default
        shown = "(none)" if default in (None, "") else f"`{default}`"
        lines.append(f"| `{s.env}` | {shown} | {s.help} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(settings_markdown())
