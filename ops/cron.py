"""Cron maths: crontab expressions as APScheduler triggers, fire times before and after a moment, timestamps.

Imports nothing of this project (``collegesearch.config`` validates its cron settings with it, and
config sits below everything else), and APScheduler only when a trigger is built.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_weekdays(expr: str) -> str:
    """A crontab day-of-week field in APScheduler's terms.

    Crontab counts 0 (and 7) as Sunday; APScheduler 3.x counts 0 as Monday (its documented
    historical mistake). Numbers, ranges and steps are expanded into day names, which both agree on.
    """
    if not any(ch.isdigit() for ch in expr):
        return expr
    days: list[str] = []
    for part in expr.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in day of week {part!r}")
        if body == "*":
            lo, hi = 0, 6
        elif "-" in body:
            a, b = body.split("-", 1)
            lo, hi = _weekday_number(a), _weekday_number(b)
            if hi < lo:
                raise ValueError(f"day-of-week range {body!r} runs backwards")
        else:
            lo = hi = _weekday_number(body)
            if step_text:
                hi = 6 if lo < 7 else 7
        for number in range(lo, hi + 1, step):
            name = _DOW_NAMES[number % 7]
            if name not in days:
                days.append(name)
    return ",".join(days)


def _weekday_number(text: str) -> int:
    text = text.strip().lower()
    if text.isdigit():
        number = int(text)
        if not 0 <= number <= 7:
            raise ValueError(f"day of week {text!r} is not 0-7")
        return number
    if text[:3] in _DOW_NAMES:
        return _DOW_NAMES.index(text[:3])
    raise ValueError(f"unknown day of week {text!r}")


def cron_fields(expr: str) -> dict[str, str]:
    """APScheduler CronTrigger arguments for a crontab expression (5 fields, or 6 with seconds first).

    Raises ValueError when the expression does not have five or six fields or a weekday is bad.
    """
    fields = expr.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ValueError(f"expected five or six fields, got {len(fields)}")
    second, minute, hour, day, month, dow = fields
    return {"second": second, "minute": minute, "hour": hour, "day": day, "month": month,
            "day_of_week": _cron_weekdays(dow)}


def has_cron_field_count(expr: str) -> bool:
    """Whether an expression has five fields (minute hour day month weekday) or six (seconds first)."""
    return len(expr.split()) in (5, 6)


def cron_trigger(expr: str, timezone: tzinfo | None = None) -> CronTrigger:
    """An APScheduler cron trigger for a crontab expression (ValueError says what is wrong with it).

    Without a time zone APScheduler uses the machine's (enough to validate an expression).
    """
    from apscheduler.triggers.cron import CronTrigger

    if timezone is None:
        return CronTrigger(**cron_fields(expr))
    return CronTrigger(**cron_fields(expr), timezone=timezone)


# -- fire times -------------------------------------------------------------------------------------


def next_fire(trigger: CronTrigger, after: datetime) -> datetime | None:
    """The first fire time at or after ``after`` (None when the trigger never fires again)."""
    fire: datetime | None = trigger.get_next_fire_time(None, after)
    return fire


def previous_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest fire time at or before ``now`` within five years (None if there is none)."""
    # APScheduler only looks forward: find a window that holds a fire time, then bisect to
    # the last one (fire times are whole seconds), so even per-second crons take ~40 steps.
    for span in (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(days=32),
                 timedelta(days=367), timedelta(days=5 * 366)):
        lo = now - span
        first = next_fire(trigger, lo)
        if first is None or first > now:
            continue
        hi = now
        while hi - lo > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            candidate = next_fire(trigger, mid)
            if candidate is not None and candidate <= now:
                lo = mid
            else:
                hi = mid
        best = next_fire(trigger, lo)
        assert best is not None
        following = next_fire(trigger, best + timedelta(seconds=1))
        while following is not None and following <= now:
            best = following
            following = next_fire(trigger, best + timedelta(seconds=1))
        return best
    return None


# -- timestamps --------------------------------------------------------------------------------------


def parse_time(text: str | None) -> datetime | None:
    """An ISO timestamp from the catalog as an aware UTC datetime (None when missing or unreadable)."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    """A datetime as ISO 8601 in UTC with a Z (None stays None)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def local_time(moment: datetime | None, tz: str | tzinfo) -> str:
    """A moment as people read it in the schedule's time zone ("never" for None)."""
    if moment is None:
        return "never"
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return moment.astimezone(zone).strftime("%a %Y-%m-%d %H:%M:%S %Z")
