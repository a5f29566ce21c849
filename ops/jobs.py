"""What may be crawled and when: the known sources and their cron jobs.

Built-in sources come from the source registry (``model.sources``), the user's sites from
``SITES_FILE`` (``model.sites``); a job is a source with a cron schedule (``SCHEDULE_<SOURCE>`` in
config, or a site's ``schedule``), in the ``SCHEDULE_TIMEZONE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from collegesearch.config import ENV_PREFIX, Settings
from model.sources import BUILTIN_SOURCES
from ops.cron import cron_trigger, has_cron_field_count

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger


class ScheduleError(RuntimeError):
    """The scheduler cannot start or a status cannot be read; the message says what to fix."""


def parse_cron(expr: str, timezone: str | tzinfo) -> CronTrigger:
    """A cron trigger from 5 fields (minute hour day month weekday) or 6 (seconds first), in a time zone.

    Weekdays follow crontab (0 or 7 is Sunday). Raises ScheduleError with the reason.
    """
    tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    if not has_cron_field_count(expr or ""):
        raise ScheduleError(f"{expr!r} is not a cron expression: give five fields (minute hour day month "
                            "weekday) or six with seconds first")
    try:
        return cron_trigger(expr, tz)
    except ValueError as exc:
        raise ScheduleError(f"{expr!r} is not a valid cron expression: {exc}") from None


@dataclass(frozen=True)
class Job:
    """One source's schedule."""

    source: str
    cron: str
    origin: str
    """Where the schedule is configured (the setting's environment variable, or the sites file)."""

    def trigger(self, timezone: str | tzinfo) -> CronTrigger:
        """The cron trigger in a time zone (ScheduleError names the setting when the cron is bad)."""
        try:
            return parse_cron(self.cron, timezone)
        except ScheduleError as exc:
            raise ScheduleError(f"{self.origin}: {exc}") from None



def user_profiles(settings: Settings) -> dict[str, dict[str, Any]]:
    """The fields of the site profiles in SITES_FILE, by name (ScheduleError when the file is broken)."""
    from model.sites import ProfileError, read_sites_file

    try:
        return read_sites_file(settings.SITES_FILE) if settings.SITES_FILE else {}
    except ProfileError as exc:
        raise ScheduleError(str(exc)) from None


def known_sources(settings: Settings) -> list[str]:
    """Every source a crawl may name: built-ins, then the user's site profiles."""
    names = list(BUILTIN_SOURCES)
    names += [n for n in user_profiles(settings) if n not in names]
    return names


def scheduled_jobs(settings: Settings) -> list[Job]:
    """The jobs: built-in sources enabled in SOURCES with a SCHEDULE_<SOURCE>, and profiles with a schedule."""
    jobs: list[Job] = []
    for source in BUILTIN_SOURCES:
        cron = settings.schedule_for(source)
        if cron and source in settings.SOURCES:
            jobs.append(Job(source, cron, f"{ENV_PREFIX}SCHEDULE_{source.upper()}"))
    for name, profile in user_profiles(settings).items():
        if profile.get("schedule"):
            jobs.append(Job(name, profile["schedule"], f"site {name!r} in {settings.SITES_FILE}"))
    return jobs
