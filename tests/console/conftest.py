"""Browser-test fixtures: the real service (production wiring on the tiny models) served by
uvicorn on a free port, with an API key configured, and Debian's chromium driven by
Playwright (never Playwright's own browser download: it does not work offline)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from service.main import create_app
from service.resources import load_resources
from tests.fixtures.hashing_encoder import HashingEncoder
from tests.fixtures.ports import free_port
from tests.service.conftest import tiny_settings

API_KEY = "console-test-key"
#: A scoped key that may only read the knowledge base.
READER_KEY = "console-reader-key"
CHROMIUM = Path(os.environ.get("TRIAGE_CHROMIUM", "/usr/bin/chromium"))
#: Where the screenshots of the main views go (the README's come from here).
SCREENSHOT_DIR = os.environ.get("TRIAGE_CONSOLE_SCREENSHOTS")


@pytest.fixture(scope="module")
def base_url(
    tmp_path_factory: pytest.TempPathFactory, tiny_intent_dir: Path, tiny_urgency_dir: Path
) -> Iterator[str]:
    """URL of a real uvicorn server over ``create_app`` with a fresh database and a key."""
    settings = tiny_settings(
        tmp_path_factory.mktemp("var"),
        tiny_intent_dir,
        tiny_urgency_dir,
        api_key=SecretStr(API_KEY),
        api_keys=[{"name": "reader", "key": READER_KEY, "scopes": ["kb:read"]}],
    )
    resources = load_resources(settings, encoder=HashingEncoder())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, resources=resources),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the console test server did not start")
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        resources.close()


@pytest.fixture(scope="module")
def api(base_url: str) -> Iterator[httpx.Client]:
    """An HTTP client of the same server, with the key (to check what the page did)."""
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium, headless."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: object, base_url: str) -> Iterator[object]:
    """A fresh browser tab (own session storage) on the console, not signed in."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.goto(f"{base_url}/console/")
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[object, str], None]:
    """Saves a full-page PNG of a view when TRIAGE_CONSOLE_SCREENSHOTS names a folder."""

    def take(tab: object, name: str) -> None:
        if SCREENSHOT_DIR:
            Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(Path(SCREENSHOT_DIR) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]

    return take
