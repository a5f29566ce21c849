"""The per-host limit: no more requests to a host than its slot allows, whatever Scrapy queues."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from scrapy import Request
from scrapy.http import Response

from crawler.middlewares import SlotConcurrencyMiddleware


def _crawler(per_slot: dict, domain: int = 1) -> SimpleNamespace:
    downloader = SimpleNamespace(
        get_slot_key=lambda request: request.url.split("/")[2].split(":")[0],
        per_slot_settings=per_slot, domain_concurrency=domain, ip_concurrency=0,
    )
    return SimpleNamespace(engine=SimpleNamespace(downloader=downloader))


def test_requests_wait_for_a_free_place_in_their_slot() -> None:
    async def scenario() -> list[str]:
        mw = SlotConcurrencyMiddleware(_crawler({"127.0.0.3": {"concurrency": 2}}))
        reqs = [Request(f"http://127.0.0.3:8800/p{i}") for i in range(3)]
        other = Request("https://www.bls.gov/ooh/")
        events: list[str] = []

        async def go(request: Request) -> None:
            await mw.process_request(request)
            events.append("start " + request.url.rsplit("/", 1)[1])

        tasks = [asyncio.create_task(go(r)) for r in [*reqs, other]]
        await asyncio.sleep(0.01)
        events.append("check")
        mw.process_response(reqs[0], Response(reqs[0].url))
        await asyncio.sleep(0.01)
        mw.process_exception(reqs[1], ConnectionError())
        mw.process_response(reqs[2], Response(reqs[2].url))
        await asyncio.gather(*tasks)
        return events

    # On a thread of its own: a test process with Playwright's sync browser open has a loop running here.
    with ThreadPoolExecutor(1) as pool:
        events = pool.submit(asyncio.run, scenario()).result(timeout=30)
    # two to the sample host and one to the real site at once; the third sample request waited
    assert sorted(events[: events.index("check")]) == ["start ", "start p0", "start p1"]
    assert events[events.index("check") + 1:] == ["start p2"]


def test_release_without_acquire_is_harmless() -> None:
    mw = SlotConcurrencyMiddleware(_crawler({}))
    request = Request("http://127.0.0.3/x")  # answered from the cache before reaching the gate
    assert mw.process_response(request, Response(request.url)).url == request.url
