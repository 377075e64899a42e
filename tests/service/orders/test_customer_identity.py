"""Who may see an order: id and/or e-mail must match; e-mail ignores case and outer spaces only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.orders.customer_identity import CustomerIdentity
from service.orders.order import Order, OrderStatus

ORDER = Order(
    id="4411829",
    status=OrderStatus.IN_TRANSIT,
    placed_at=datetime(2026, 11, 19, tzinfo=UTC),
    customer_id="C-1001",
    customer_email="jane@example.com",
)


@pytest.mark.parametrize(
    "identity",
    [
        CustomerIdentity(id="C-1001"),
        CustomerIdentity(email="jane@example.com"),
        CustomerIdentity(email="  JANE@Example.COM\t"),
        CustomerIdentity(id="C-1001", email="Jane@example.com"),
    ],
)
def test_owner_sees_the_order(identity: CustomerIdentity) -> None:
    assert identity.owns(ORDER)


@pytest.mark.parametrize(
    "identity",
    [
        CustomerIdentity(),
        CustomerIdentity(id="", email="  "),
        CustomerIdentity(id="C-1002"),
        CustomerIdentity(id="c-1001"),  # ids match exactly
        CustomerIdentity(email="omar@example.com"),
        CustomerIdentity(email="jane@example.com.evil.test"),
        CustomerIdentity(email="j.ane@example.com"),  # no other normalisation
        CustomerIdentity(email="jane+shop@example.com"),
        CustomerIdentity(id="C-1001", email="omar@example.com"),  # one of two disagrees
        CustomerIdentity(id="C-1002", email="jane@example.com"),
    ],
)
def test_anyone_else_does_not(identity: CustomerIdentity) -> None:
    assert not identity.owns(ORDER)


def test_identifier_the_order_lacks_cannot_prove_ownership() -> None:
    email_only = Order(
        id="1",
        status=OrderStatus.SHIPPED,
        placed_at=datetime(2026, 11, 19, tzinfo=UTC),
        customer_email="jane@example.com",
    )
    assert not CustomerIdentity(id="C-1001").owns(email_only)
    assert CustomerIdentity(id="C-1001", email="jane@example.com").owns(email_only)


def test_first_name_is_the_first_word_of_the_name() -> None:
    assert CustomerIdentity(name="  Jane  Doe ").first_name == "Jane"
    assert CustomerIdentity(name=" ").first_name is None
