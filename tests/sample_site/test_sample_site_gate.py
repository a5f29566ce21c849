"""The sample site's gate (``SAMPLE_SITE_GATE``): a test holds requests under a path prefix, then refuses them."""

from __future__ import annotations

import threading
import time

PROGRAM = "/cahiim/program-directory/program/"


def test_the_gate_holds_past_its_allowance_then_refuses_and_opens(fresh_sample_site, get):
    site = fresh_sample_site(faults=False, gate=True)
    answered: dict[int, int] = {}

    def fetch_program(pid: int) -> threading.Thread:
        def run() -> None:
            answered[pid] = get(site.url("directory", f"{PROGRAM}{pid}")).status

        worker = threading.Thread(target=run)
        worker.start()
        return worker

    assert get(site.url("directory", f"{PROGRAM}1001")).status == 200  # no gate file: open
    site.gate.hold(PROGRAM, allow=1)  # (requests through an open gate do not count)
    fetch_program(1002).join(10)
    assert answered == {1002: 200}
    held = fetch_program(1003)
    time.sleep(0.5)
    assert held.is_alive() and 1003 not in answered
    assert get(site.url("directory", "/cahiim/program-directory")).status == 200  # other paths are not held
    site.gate.hold(PROGRAM, allow=2)  # one more may pass: the one waiting
    held.join(10)
    assert answered[1003] == 200
    waiting = fetch_program(1004)
    time.sleep(0.5)
    assert waiting.is_alive()
    site.gate.refuse()  # the waiting request and later ones are answered at once, with 503
    waiting.join(10)
    assert answered[1004] == 503
    assert get(site.url("directory", f"{PROGRAM}1005")).status == 503
    site.gate.open()
    assert get(site.url("directory", f"{PROGRAM}1005")).status == 200
