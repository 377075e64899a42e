"""Knowledge-base gaps on the sample help centre: which groups come back when customers
ask what it does not answer?

The real service (shipped models, real encoder, the sample help centre, a fresh SQLite
database) gets, through ``POST /v1/suggest``, questions on six topics the help centre has
no article for (four wordings each, ours), mixed with questions it does answer. Agents
then reject or rewrite some drafts through ``POST /v1/feedback``, as they would. The
script prints ``GET /v1/insights/kb-gaps``: each group's title, size, how its signals
arose, the facts agents sent and the start of the draft article, and which topics came
back as one group.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python bench/kb_gaps_sample.py

Prints figures; never run as a test.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from service.main import create_app
from service.resources import load_resources
from service.settings import Settings

# Topic -> (wordings, an agent's reply or None).
UNANSWERED: dict[str, list[tuple[str, str | None]]] = {
    "gift wrapping": [
        (
            "Do you offer gift wrapping?",
            "Yes, gift wrapping costs 3 euros per item. Choose it in the basket before checkout.",
        ),
        (
            "can you wrap my order as a present",
            "Gift wrapping costs 3 euros per item and "
            "you pick it in the basket. We add a card with your message for free.",
        ),
        ("Is it possible to get the parcel gift wrapped for my mum's birthday?", None),
        (
            "gift wrap option?? can't see it",
            "Gift wrapping costs 3 euros per item; it is in the basket, under each product.",
        ),
    ],
    "price match": [
        (
            "Do you price match if I find it cheaper elsewhere?",
            "We match the price of UK "
            "retailers within 7 days of purchase. Send us a link to the cheaper offer.",
        ),
        (
            "another shop sells this lamp 20 pounds cheaper, will you match it?",
            "We match "
            "the price of UK retailers within 7 days of purchase; marketplaces do not count.",
        ),
        ("price match guarantee??", None),
        (
            "Will you refund the difference if the price drops after I buy?",
            "We match the "
            "price of UK retailers within 7 days of purchase, including our own sale prices.",
        ),
    ],
    "assembly": [
        (
            "Can someone assemble the wardrobe when it is delivered?",
            "Our partner assembles "
            "furniture for 49 pounds; book it at checkout or up to 2 days before delivery.",
        ),
        ("do you have an assembly service for the bed frame", None),
        (
            "I can't build this desk myself, can your driver put it together?",
            "Drivers can't "
            "assemble, but our partner does for 49 pounds; book it up to 2 days before delivery.",
        ),
        ("is furniture assembly available and how much", None),
    ],
    "engraving": [
        (
            "Can you engrave a name on the watch?",
            "Engraving is free on watches and jewellery, "
            "up to 20 characters. Add the text on the product page.",
        ),
        ("personalised engraving on the bracelet possible?", None),
        (
            "I want initials engraved on the pen I'm ordering",
            "Engraving is free on pens too, "
            "up to 20 characters; engraved items cannot be returned.",
        ),
    ],
    "loyalty points": [
        (
            "How do I use my loyalty points?",
            "Every 100 points are worth 1 pound; use them at "
            "checkout under 'Pay with points'. Points expire after 12 months.",
        ),
        ("where can I see how many reward points I have", None),
        (
            "do my loyalty points expire??",
            "Points expire after 12 months. Every 100 points are worth 1 pound at checkout.",
        ),
        ("can I pay with my points balance", None),
    ],
    "pre-order": [
        (
            "Can I pre-order the new console?",
            "Pre-orders open 4 weeks before release; we charge your card only when the item ships.",
        ),
        ("when will pre orders for the phone open", None),
        (
            "If I pre-order, when do you take the money?",
            "We charge pre-orders only when the "
            "item ships, and you can cancel any time before that.",
        ),
    ],
}
ANSWERED = [
    "How do I return an item?",
    "where is my refund",
    "can I change my delivery address",
    "I forgot my password",
    "how long does delivery take to France",
    "my discount code doesn't work",
    "I was charged twice",
    "how do I delete my account",
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        resources = load_resources(settings)
        with TestClient(create_app(settings, resources=resources)) as client:
            topic_of: dict[str, str] = {}
            needs_agent = 0
            for topic, wordings in UNANSWERED.items():
                for text, reply in wordings:
                    body = client.post("/v1/suggest", json={"message": {"text": text}}).json()
                    topic_of[body["suggestion_id"]] = topic
                    needs_agent += body["needs_agent"]
                    if reply is not None:
                        feedback = {
                            "suggestion_id": body["suggestion_id"],
                            "outcome": "edited",
                            "final_text": reply,
                        }
                    elif not body["needs_agent"]:
                        feedback = {"suggestion_id": body["suggestion_id"], "outcome": "rejected"}
                    else:
                        continue
                    client.post("/v1/feedback", json=feedback).raise_for_status()
            answered_needs_agent = 0
            for text in ANSWERED:
                body = client.post("/v1/suggest", json={"message": {"text": text}}).json()
                topic_of[body["suggestion_id"]] = "(answered by the help centre)"
                answered_needs_agent += body["needs_agent"]
            report = client.get("/v1/insights/kb-gaps").json()
        resources.close()
    asked = sum(len(w) for w in UNANSWERED.values())
    print(
        f"{asked} unanswerable questions on {len(UNANSWERED)} topics ({needs_agent} needs_agent), "
        f"{len(ANSWERED)} answerable ones ({answered_needs_agent} needs_agent); "
        f"{report['signals']} gap signals"
    )
    found: dict[str, int] = {}
    for gap in report["gaps"]:
        topics = [topic_of.get(s, "?") for s in gap["suggestion_ids"]]
        main_topic = max(set(topics), key=topics.count)
        found[main_topic] = found.get(main_topic, 0) + 1
        print(
            f"\n{gap['title']!r}: {gap['size']} messages (needs_agent {gap['needs_agent']}, "
            f"rejected {gap['rejected']}, edited {gap['edited']}); topics {sorted(set(topics))}"
        )
        for fact in gap["facts"]:
            print(f"    fact: {fact}")
        print(f"    draft article {gap['article']['id']}")
    single = [t for t in UNANSWERED if found.get(t) == 1]
    print(f"\ntopics returned as exactly one group: {len(single)}/{len(UNANSWERED)} {single}")


if __name__ == "__main__":
    main()
