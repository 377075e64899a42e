"""Who sent the message, as the helpdesk authenticated them, and which orders they may see."""

from __future__ import annotations

from dataclasses import dataclass

from service.orders.order import Order


def first_name(name: str | None) -> str | None:
    """The name to greet with: the first word of a name, if it looks like a name at all
    (the one rule for auto-replies and drafts)."""
    if not name or not name.strip():
        return None
    first = name.strip().split()[0].strip(",.")
    return first if first[:1].isalpha() else None


def normalise_email(email: str) -> str:
    """E-mail addresses match ignoring case and surrounding spaces, nothing else."""
    return email.strip().lower()


@dataclass(frozen=True)
class CustomerIdentity:
    """The sender's identity. Empty strings count as absent."""

    id: str | None = None
    email: str | None = None
    name: str | None = None

    @property
    def customer_id(self) -> str | None:
        """The customer id, or ``None`` when blank."""
        return self.id if self.id and self.id.strip() else None

    @property
    def normalised_email(self) -> str | None:
        """The e-mail as matched against orders, or ``None`` when blank."""
        if self.email is None:
            return None
        email = normalise_email(self.email)
        return email or None

    @property
    def is_known(self) -> bool:
        """At least one identifier an order can be matched against."""
        return self.customer_id is not None or self.normalised_email is not None

    @property
    def first_name(self) -> str | None:
        """The name to greet with (see :func:`first_name`)."""
        return first_name(self.name)

    def owns(self, order: Order) -> bool:
        """True when ``order`` belongs to this customer.

        Every identifier the caller gave and the order carries must agree, and at least
        one must match: an id that matches next to an e-mail that does not is refused,
        because one of the two is then not the order's owner.
        """
        matched = False
        if self.customer_id is not None and order.customer_id is not None:
            if self.customer_id != order.customer_id:
                return False
            matched = True
        email = self.normalised_email
        if email is not None and order.customer_email is not None:
            if email != normalise_email(order.customer_email):
                return False
            matched = True
        return matched
