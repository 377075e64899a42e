"""Screenshots of the agent console for the README, from the real service.

    .venv/bin/python bench/console_screenshots.py [--out docs/console]

Starts the service (default settings: shipped models, onnx-int8 encoder, the sample help
centre and demo orders, a temporary data folder) under uvicorn on a free port, sends a short
scripted session of messages we wrote through ``/v1/respond`` and a few agent verdicts
through ``/v1/feedback``, then drives Debian's chromium (Playwright, ``/usr/bin/chromium``)
over ``/console`` and saves PNGs: the queue with drafts and a cited article open, an
escalation, the dashboard after the feedback, the insights (a knowledge-base gap made of
four questions the help centre does not answer, edited by agents), and the knowledge base.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from playwright.sync_api import Page, sync_playwright

from service.main import create_app
from service.settings import Settings

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.local_ports import free_port  # noqa: E402

JANE = {"email": "jane@example.com", "name": "Jane"}
OMAR = {"email": "omar@example.com", "name": "Omar"}
SESSION = [
    ({"text": "Hi, where is my order #4411829?", "channel": "email"}, JANE),
    ({"text": "do you ship to norway? and how much is it", "channel": "social"}, {}),
    (
        {
            "text": "Someone logged into my account last night and changed my e-mail "
            "address. I did not do this! Please lock it.",
            "channel": "email",
            "subject": "Account hacked",
        },
        OMAR,
    ),
    ({"text": "I want to talk to a real person please", "channel": "chat"}, OMAR),
    (
        {
            "text": "The kettle from order 4411829 arrived with a cracked lid. Can I send it back?",
            "channel": "email",
            "subject": "Broken kettle",
        },
        JANE,
    ),
    ({"text": "Can I still change the delivery address of my order?", "channel": "chat"}, JANE),
    (
        {
            "text": "How long does a refund take once you have my parcel back? "
            "I paid with my card.",
            "channel": "email",
            "subject": "Refund question",
        },
        JANE,
    ),
]


#: Questions the sample help centre does not answer, and what agents sent instead: a
#: knowledge-base gap for the Insights view.
GAP_QUESTIONS = [
    "Do you offer gift wrapping for my order?",
    "Can you gift wrap the kettle I am ordering?",
    "Is gift wrapping available, and what does it cost?",
    "Could my order be wrapped as a present?",
]
GAP_REPLY = (
    "Hi, yes: we wrap any order in recycled paper for 3 euros. Choose gift wrapping at "
    "checkout and add a note; the packing slip then shows no prices."
)


def scripted_session(client: httpx.Client) -> None:
    """Messages, then an accepted, an edited and a rejected draft."""
    results = []
    for message, customer in SESSION:
        body = {"message": message, "customer": customer}
        response = client.post("/v1/respond", json=body)
        response.raise_for_status()
        results.append(response.json())
    drafts = [r["suggestions"][0] for r in results if r["suggestions"]]
    verdicts = [
        {"outcome": "accepted"},
        {"outcome": "edited", "final_text": "Hi Jane, yes: reply here with the new address."},
        {"outcome": "rejected", "correct_urgency": "high"},
    ]
    for draft, verdict in zip(drafts, verdicts, strict=False):
        client.post("/v1/feedback", json={"suggestion_id": draft["id"], **verdict})
    for question in GAP_QUESTIONS:
        body = {"message": {"text": question, "channel": "email"}, "customer": JANE}
        result = client.post("/v1/respond", json=body).json()
        if result["suggestions"]:
            edited = {"outcome": "edited", "final_text": GAP_REPLY}
            client.post(
                "/v1/feedback", json={"suggestion_id": result["suggestions"][0]["id"], **edited}
            )


def shoot(page: Page, out: Path) -> None:
    """The console views as PNGs."""
    page.get_by_role("heading", name="New message").wait_for()
    page.locator("#message-list .message-row").first.click()
    draft = page.locator("#detail .draft").first
    draft.get_by_role("button", name="Open ").first.click()
    page.locator("#passage mark.quoted").first.wait_for()
    page.screenshot(path=str(out / "queue-drafts-citation.png"), full_page=True)
    page.locator(".message-row", has_text="Account hacked").click()
    page.locator("#detail .decision").wait_for()
    page.screenshot(path=str(out / "queue-escalation.png"), full_page=True)
    page.get_by_role("button", name="Dashboard").click()
    page.locator("#chart-cited .hbars li").first.wait_for()
    page.screenshot(path=str(out / "dashboard.png"), full_page=True)
    page.get_by_role("button", name="Insights").click()
    page.locator("#gaps-summary", has_text="drafts in the window").wait_for()
    page.screenshot(path=str(out / "insights.png"), full_page=True)
    page.get_by_role("button", name="Knowledge base").click()
    page.get_by_label("Search the knowledge base").fill("refund to my card")
    page.get_by_role("button", name="Search").click()
    page.locator("#kb-list li").first.get_by_role("button").click()
    page.locator("#kb-article h3").wait_for()
    page.screenshot(path=str(out / "knowledge-base.png"), full_page=True)


def main() -> None:
    """Serve, script, shoot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "console")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="console-shots-") as tmp:
        settings = Settings(data_dir=Path(tmp), orders_seed_sample=True)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise SystemExit("the service did not start")
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                scripted_session(client)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, headless=True, args=["--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"{base}/console/")
                shoot(page, args.out)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(30)
    for png in sorted(args.out.glob("*.png")):
        print(png.relative_to(REPO) if png.is_relative_to(REPO) else png)


if __name__ == "__main__":
    main()
