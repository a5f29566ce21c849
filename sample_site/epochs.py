"""How the site changes as time passes: the state of every mutable thing at an epoch.

Epoch 1 is the base. Each later epoch applies a deterministic batch of events to the previous
state: programs change accreditation status, renew or close; new programs are accredited
(including CAHIIM ones, which also reach the directory); closed institutions vanish and newly
added IPEDS units appear; some generated careers get new pay figures; new reviews are posted
(always after the older ones, so only a school's first and last review pages change).

College Navigator lags the accreditor: a CAHIIM program whose accreditation changed at epoch N
shows the new state in the CAHIIM directory at once, but its College Navigator row still shows
the epoch N-1 state until epoch N+1 (real College Navigator reloads DAPIP data later than the
accreditor publishes it). Programs new at epoch N appear in both sources at once.

A scaled site (``sample_site.scale``) starts from a base state with N times the programs and
reviews; the same events then apply to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
from dataclasses import dataclass, field

from sample_site import occupations as occ_mod
from sample_site.institutions import (
    CAHIIM_KINDS,
    CAHIIM_NAME,
    HELD_BACK_UNITIDS,
    SANCTION_TEXT,
    ProgramAcc,
    _delivery,
    _eligible_types,
    _kinds,
    directory_name,
    field_of,
    institutions,
    program_id,
    programs,
)
from sample_site.reviewdata import Review, generate_review, school_quality, schools
from sample_site.scale import check_scale, extra_programs, scaled_reviews
from sample_site.util import epoch_date, h64

MAX_EPOCH = 1000
VANISH_PER_EPOCH = 4
STATUS_CHANGES_PER_EPOCH = 30
CAHIIM_CHANGES_PER_EPOCH = 3
CLOSURES_PER_EPOCH = 5
NEW_PROGRAMS_PER_EPOCH = 8
PAY_CHANGES_PER_EPOCH = 10
NEW_REVIEWS_PER_EPOCH = 150


@dataclass(slots=True)
class EpochState:
    """Everything that can differ between epochs."""

    epoch: int
    date: dt.date
    present: frozenset[str]
    """Unitids with a College Navigator page."""
    programs: dict[str, ProgramAcc]
    """All programmatic accreditations (of present and absent institutions) by program id."""
    pay_factor: dict[str, float]
    """Occupation slug -> cumulative raise of its pay figures."""
    reviews: dict[str, tuple[Review, ...]]
    """Entity id -> reviews, oldest first, for schools on the review site."""
    next_rid: int
    cn_lag: dict[str, ProgramAcc] = field(default_factory=dict)
    """Program id -> the previous epoch's version College Navigator still shows (CAHIIM programs changed this epoch)."""
    scale: int = 1
    """How many times the base programs and reviews the site holds (``sample_site.scale``)."""

    @property
    def key(self) -> tuple[int, int]:
        """(epoch, scale): what per-state caches are keyed by."""
        return self.epoch, self.scale

    def programs_of(self, unitid: str) -> list[ProgramAcc]:
        """Programs listed on an institution's page, in page order (by accreditor, then program)."""
        return sorted(self._by_inst().get(unitid, ()), key=lambda p: (p.nlr, p.agency.lower(), p.name.lower()))

    def _by_inst(self) -> dict[str, list[ProgramAcc]]:
        cache = _BY_INST.get(self.key)
        if cache is None:
            cache = {}
            for p in self.programs.values():
                cache.setdefault(p.unitid, []).append(p)
            _BY_INST[self.key] = cache
        return cache

    def cn_view(self, p: ProgramAcc) -> ProgramAcc:
        """The version of a program College Navigator shows at this epoch (the previous one while it lags)."""
        return self.cn_lag.get(p.pid, p)

    def cn_programs_of(self, unitid: str) -> list[ProgramAcc]:
        """Programs as an institution's College Navigator page shows them, in page order."""
        # The lagged version has the same agency and name, so the page order is the same.
        return [self.cn_view(p) for p in self.programs_of(unitid)]

    def cahiim_programs(self) -> list[ProgramAcc]:
        """CAHIIM programs of present institutions, by directory id."""
        hit = _CAHIIM.get(self.key)
        if hit is None:
            hit = _CAHIIM[self.key] = sorted(
                (p for p in self.programs.values() if p.cahiim_id is not None and p.unitid in self.present),
                key=lambda p: p.cahiim_id or 0)
        return hit

    def pay(self, occ: occ_mod.Occupation) -> tuple[int | None, float | None, int | None, int | None]:
        """(annual, hourly, p10, p90) of an occupation at this epoch."""
        factor = self.pay_factor.get(occ.slug)
        if factor is None:
            return occ.annual, occ.hourly, occ.p10, occ.p90
        return occ_mod.scaled_pay(occ, factor)


_BY_INST: dict[tuple[int, int], dict[str, list[ProgramAcc]]] = {}
_CAHIIM: dict[tuple[int, int], list[ProgramAcc]] = {}


def _base_state(scale: int) -> EpochState:
    insts = institutions()
    present = frozenset(u for u in insts if u not in HELD_BACK_UNITIDS)
    reviews = scaled_reviews(scale)
    # Review ids are numbered from 100001 with no gaps, so the next one follows all the base (and scaled) ones.
    next_rid = 100001 + sum(len(v) for v in reviews.values())
    return EpochState(epoch=1, date=epoch_date(1), present=present, programs={**programs(), **extra_programs(scale)},
                      pay_factor={}, reviews=reviews, next_rid=next_rid, scale=scale)


def _transition(p: ProgramAcc, rng: random.Random, today: dt.date) -> ProgramAcc:
    """The next accreditation state of a program (realistic DAPIP actions)."""
    days_ago = dt.timedelta(days=rng.randrange(13))
    if p.status == "accredited":
        x = rng.random()
        if x < 0.3:
            return dataclasses.replace(p, status="probation", sanction_date=today - days_ago)
        if x < 0.55:
            return dataclasses.replace(p, status="warning", sanction_date=today - days_ago)
        if x < 0.6:
            return dataclasses.replace(p, status="show_cause", sanction_date=today - days_ago)
        if x < 0.7:
            return dataclasses.replace(p, status="monitoring", sanction_date=today - days_ago)
        # Renewal of accreditation: the next review moves out by several years.
        return dataclasses.replace(p, next_review=dt.date(today.year + 5 + rng.randrange(4), 6, 30))
    if p.status in SANCTION_TEXT:
        x = rng.random()
        if x < 0.7:
            return dataclasses.replace(p, status="accredited", sanction_date=None,
                                       next_review=dt.date(today.year + 3 + rng.randrange(5), 12, 31))
        status = "withdrawn" if x < 0.9 else "closed"
        return dataclasses.replace(p, status=status, sanction_date=None, next_review=None, end_date=today - days_ago)
    if p.status in ("preaccredited", "candidate"):
        return dataclasses.replace(p, status="accredited", since=today - days_ago, since_estimated=False,
                                   next_review=dt.date(today.year + 5, 6, 30))
    return p


def _apply(prev: EpochState, epoch: int) -> EpochState:
    rng = random.Random(h64("epoch-events", epoch))
    today = epoch_date(epoch)
    insts = institutions()
    present = set(prev.present)
    # Institutions: real 2023 closures vanish a few at a time; IPEDS's newly added units appear at epoch 2.
    closing = sorted((u for u in present if insts[u].closed_2023 and not any(p.cahiim_id for p in insts[u].programs)),
                     key=lambda u: h64("vanish", u))
    for u in closing[:VANISH_PER_EPOCH]:
        present.discard(u)
    if epoch == 2:
        present.update(HELD_BACK_UNITIDS)
    progs = dict(prev.programs)
    active = sorted((p for p in progs.values() if p.unitid in present and not p.nlr and p.status not in ("withdrawn", "closed")),
                    key=lambda p: p.pid)
    touched: set[str] = set()
    cahiim = [p for p in active if p.cahiim_id is not None]
    for p in sorted(cahiim, key=lambda p: h64("cahiim-change", epoch, p.pid))[:CAHIIM_CHANGES_PER_EPOCH]:
        progs[p.pid] = _transition(progs[p.pid], rng, today)
        touched.add(p.pid)
    others = [p for p in active if p.pid not in touched]
    for p in sorted(others, key=lambda p: h64("status-change", epoch, p.pid))[:STATUS_CHANGES_PER_EPOCH]:
        progs[p.pid] = _transition(progs[p.pid], rng, today)
        touched.add(p.pid)
    closable = [p for p in active if p.pid not in touched and p.status == "accredited" and p.cahiim_id is None]
    for p in sorted(closable, key=lambda p: h64("closure", epoch, p.pid))[:CLOSURES_PER_EPOCH]:
        progs[p.pid] = dataclasses.replace(p, status="closed", next_review=None,
                                           end_date=today - dt.timedelta(days=rng.randrange(13)))
    # New accreditations: a few programs anywhere, and one new CAHIIM program in the directory.
    hosts = sorted((u for u in present if not insts[u].new_unit), key=lambda u: h64("new-program", epoch, u))
    added = 0
    for u in hosts:
        if added >= NEW_PROGRAMS_PER_EPOCH:
            break
        inst = insts[u]
        row = {"INSTNM": inst.name, "SECTOR": inst.sector, "HLOFFER": str(inst.hloffer), "INSTSIZE": str(inst.instsize),
               "ICLEVEL": inst.iclevel, "CONTROL": inst.control}
        kinds, expected = _kinds(row)
        types = _eligible_types(frozenset(kinds), inst.state == "MO") if kinds and expected else []
        if not types:
            continue
        _w, agency, prog, awards, online_p, cip = types[h64("new-type", epoch, u) % len(types)]
        pid = program_id(u, agency, prog)
        if pid in progs:
            continue
        award = awards[0]
        progs[pid] = ProgramAcc(
            pid=pid, unitid=u, agency=agency, name=prog, field=field_of(prog), award=award,
            delivery=_delivery(u, prog, online_p), since=today - dt.timedelta(days=rng.randrange(13)),
            since_estimated=False, status="preaccredited", sanction_date=None, end_date=None,
            next_review=dt.date(today.year + 2, 12, 31), cip=cip, appear_epoch=epoch,
        )
        added += 1
    for u in sorted((u for u in present if insts[u].sector == "4"), key=lambda u: h64("new-cahiim", epoch, u)):
        name, award, cip = CAHIIM_KINDS["associate"]
        pid = program_id(u, CAHIIM_NAME, name)
        if pid in progs:
            continue
        progs[pid] = ProgramAcc(
            pid=pid, unitid=u, agency=CAHIIM_NAME, name=name, field=field_of(name), award=award,
            delivery=_delivery(u, name, 0.3), since=today - dt.timedelta(days=rng.randrange(13)), since_estimated=False,
            status="candidate", sanction_date=None, end_date=None, next_review=dt.date(today.year + 2, 6, 30), cip=cip,
            cahiim_id=2000 + epoch, dir_name=directory_name(insts[u].name, u), appear_epoch=epoch,
        )
        break
    # Pay: the BLS updates some wage figures.
    pay = dict(prev.pay_factor)
    candidates = sorted((o for o in occ_mod.occupations() if not o.real and o.annual and o.annual < occ_mod.TOP_CODED_WAGE),
                        key=lambda o: h64("pay", epoch, o.slug))
    for o in candidates[:PAY_CHANGES_PER_EPOCH]:
        pay[o.slug] = round(pay.get(o.slug, 1.0) * (1.02 + 0.04 * rng.random()), 4)
    # Reviews: new reviews dated after everything older, and a few schools reviewed for the first time.
    reviews = dict(prev.reviews)
    rid = prev.next_rid
    start = epoch_date(epoch - 1) + dt.timedelta(days=1)
    span = (today - start).days
    for school in schools():
        if school.appear_epoch == epoch:
            n = 1 + h64("first-reviews", school.entity_id) % 4
            dates = sorted(start + dt.timedelta(days=rng.randrange(span + 1)) for _ in range(n))
            new = []
            for d in dates:
                new.append(generate_review(rng, rid, school.entity_id, d, school_quality(school.entity_id)))
                rid += 1
            reviews[school.entity_id] = tuple(new)
    reviewed = sorted(e for e in prev.reviews)
    picks = [reviewed[rng.randrange(len(reviewed))] for _ in range(NEW_REVIEWS_PER_EPOCH)]
    for entity in sorted(picks, key=lambda e: (e, h64("rv-order", epoch, e))):
        old = reviews[entity]
        last = old[-1].date if old else start
        d = max(last, start + dt.timedelta(days=rng.randrange(span + 1)))
        reviews[entity] = (*old, generate_review(rng, rid, entity, d, school_quality(entity)))
        rid += 1
    return EpochState(epoch=epoch, date=today, present=frozenset(present), programs=progs, pay_factor=pay,
                      reviews=reviews, next_rid=rid, cn_lag=_cn_lag(prev.programs, progs), scale=prev.scale)


def _cn_lag(prev: dict[str, ProgramAcc], now: dict[str, ProgramAcc]) -> dict[str, ProgramAcc]:
    """CAHIIM programs changed since the previous epoch -> their previous version (what College Navigator still shows)."""
    # Whatever changed them (the CAHIIM batch or the general status changes), the accreditor's
    # directory shows it first; a program new this epoch has no previous version and does not lag.
    return {pid: prev[pid] for pid, p in sorted(now.items())
            if p.cahiim_id is not None and pid in prev and prev[pid] != p}


def state(epoch: int, scale: int = 1) -> EpochState:
    """The site's state at an epoch (1 = base) and scale, built from the previous epoch's state."""
    if epoch < 1 or epoch > MAX_EPOCH:
        raise ValueError(f"epoch must be between 1 and {MAX_EPOCH}, got {epoch}")
    return _state(epoch, check_scale(scale))


@functools.cache
def _state(epoch: int, scale: int) -> EpochState:
    if epoch == 1:
        return _base_state(scale)
    # Build iteratively so a high epoch does not recurse deeply.
    for e in range(2, epoch):
        _state(e, scale)
    return _apply(_state(epoch - 1, scale), epoch)
