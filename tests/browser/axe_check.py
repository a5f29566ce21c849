"""axe-core (bundled by axe-playwright-python, no network) on a page as its visitors get it, CSP included.

How the script gets in: ``Axe.run`` hands axe.min.js and then ``axe.run(...)`` to ``page.evaluate``, which Playwright
sends over the DevTools protocol. Code evaluated that way is the debugger's, not the page's, and Chromium does not hold
it to the page's Content-Security-Policy (``script-src 'self'``, no ``'unsafe-eval'``), so no ``<script>`` element is
added (``add_script_tag`` would add an inline one, which that policy rightly blocks) and the context needs no
``bypass_csp``: the pages are checked under the very policy real users get, and the ``page`` fixture's CSP watch still
fails a test if axe (or anything else) trips it.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

BLOCKING_IMPACTS = ("serious", "critical")
# Every rule axe-core runs by default (WCAG 2.0, 2.1 and 2.2 A and AA plus its best practices), and WCAG 2.2's
# target size (2.5.8, AA), which axe-core ships switched off. Only what it rates serious or critical fails a test.
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}

_axe = Axe()


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (its current DOM: open panels and lists included)."""
    return _axe.run(page, options=AXE_OPTIONS).response["violations"]


def blocking(violations: list[dict]) -> list[dict]:
    """The serious and critical ones."""
    return [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict], limit: int = 5) -> str:
    """A readable list: rule, impact, what it means, and the first few elements with axe's advice for each."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:limit]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"        {summary[:300]}")
        if len(v["nodes"]) > limit:
            lines.append(f"    ... and {len(v['nodes']) - limit} more")
    return "\n".join(lines)
