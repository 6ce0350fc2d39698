"""Debian's chromium driven by Playwright, with every address but the test server's
unreachable: the browser resolves no other host name, and the page's requests to any
other origin are aborted and recorded (a CDN request is a test failure, not a hang).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class OfflinePage:
    page: Page
    origin: str
    #: URLs the page asked for outside ``origin`` (each was aborted)
    blocked: list[str] = field(default_factory=list)
    #: the console's "Refused to ..." lines: what the Content-Security-Policy blocked
    csp_violations: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.origin + path


@contextmanager
def offline_page(origin: str) -> Iterator[OfflinePage]:
    """A fresh headless chromium page that may reach ``origin`` (``http://127.0.0.1:N``)
    only."""
    host = origin.split("://", 1)[1].split(":", 1)[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # Every host name resolves to nothing, except the loopback address itself.
            args=[f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {host}"],
        )
        try:
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(15_000)
            offline = OfflinePage(page, origin)

            def route(route: Route) -> None:
                url = route.request.url
                if url == origin or url.startswith(origin + "/"):
                    route.continue_()
                else:
                    offline.blocked.append(url)
                    route.abort("addressunreachable")

            def console(message: ConsoleMessage) -> None:
                if "Refused to" in message.text:
                    offline.csp_violations.append(message.text)

            context.route("**/*", route)
            page.on("console", console)
            yield offline
        finally:
            browser.close()
