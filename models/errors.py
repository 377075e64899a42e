"""Domain errors. The service maps each subclass to one HTTP status in one place."""


class TriageError(Exception):
    """Base of every error the domain code raises on purpose."""

    #: Short machine-readable code the API returns next to the message.
    code: str = "triage_error"


class InvalidInputError(TriageError):
    """The caller gave input the domain cannot work with (maps to 422).

    Args:
        message: what is wrong, in a sentence.
        field: the request field at fault, when there is one (the 422 names it).
    """

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(TriageError):
    """A named thing (document, suggestion, order) does not exist (maps to 404)."""

    code = "not_found"


class ConflictError(TriageError):
    """The request clashes with the current state (maps to 409)."""

    code = "conflict"


class UnavailableError(TriageError):
    """A resource the request needs (database, knowledge base, order source) is down for
    now; the same request may succeed later (maps to 503 with ``Retry-After``)."""

    code = "unavailable"
    #: Seconds a client should wait before retrying (sent as ``Retry-After``).
    retry_after_s: int = 5


class ArtifactError(TriageError):
    """An artifact folder is missing, malformed or fails its checksums."""

    code = "artifact_error"


class EncoderMismatchError(ArtifactError):
    """An artifact was built with another encoder than the one loaded now."""

    code = "encoder_mismatch"


class UpstreamError(TriageError):
    """A system we call (order API, LLM endpoint) failed or answered nonsense."""

    code = "upstream_error"
