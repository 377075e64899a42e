"""The intents spec: a team's own taxonomy as a short YAML file (issue 16).

Each intent has a name, a description, an optional category, at least three example
messages and an optional ``auto_reply: false``. The file is validated strictly before any
encoding starts, and every error names the intent (by position and name) and the field, so
an admin editing forty intents finds the one typo at once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from models.errors import InvalidInputError
from models.language_detector import TRUSTED_BY_DEFAULT

MIN_EXAMPLES = 3
#: Reserved: the classifier's own label for messages that fit no intent.
OOS_LABEL = "out_of_scope"

_NAME = r"^[a-z][a-z0-9_]{0,63}$"
_CATEGORY = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
_QUEUE = r"^[a-z][a-z0-9_]{0,63}$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _IntentEntry(_Strict):
    name: Annotated[str, StringConstraints(pattern=_NAME)]
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000)
    ]
    #: Upper-cased on reading: routing files name categories in capitals.
    category: Annotated[str, StringConstraints(pattern=_CATEGORY)] | None = None
    examples: Annotated[list[Text], Field(min_length=MIN_EXAMPLES, max_length=10_000)]
    auto_reply: bool = True


class _Languages(_Strict):
    supported: Annotated[list[str], Field(min_length=1)] = ["en"]
    queue: Annotated[str, StringConstraints(pattern=_QUEUE)] = "multilingual"


class _SpecFile(_Strict):
    version: Literal[1]
    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")] = "custom-intents"
    languages: _Languages = _Languages()
    intents: Annotated[list[_IntentEntry], Field(min_length=2, max_length=1_000)]


@dataclass(frozen=True)
class IntentDefinition:
    """One intent of a spec."""

    name: str
    description: str
    examples: tuple[str, ...]
    category: str | None = None
    auto_reply: bool = True


@dataclass(frozen=True)
class LanguagePolicy:
    """Languages the intents are written in, and the queue for every other language.

    The encoder reads English; a message in another language is never forced into one of
    these intents: the service marks it ``language.supported: false`` and the routing rule
    ``language_supported: false`` sends it to ``queue``.
    """

    supported: tuple[str, ...] = TRUSTED_BY_DEFAULT
    queue: str = "multilingual"


@dataclass(frozen=True)
class IntentSpec:
    """A validated intents spec."""

    name: str
    intents: tuple[IntentDefinition, ...]
    languages: LanguagePolicy
    source: str
    sha256: str

    @property
    def categories(self) -> dict[str, str]:
        """Intent → category, for the intents that name one."""
        return {i.name: i.category for i in self.intents if i.category}

    @property
    def auto_reply(self) -> dict[str, bool]:
        """Intent → whether the service may ever answer it by itself."""
        return {i.name: i.auto_reply for i in self.intents}


def normalised_example(text: str) -> str:
    """Case, accents and punctuation aside: two examples that read the same are one."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def _where(loc: tuple[Any, ...], raw: Any) -> str:
    """``intents[3] (internet_down).examples[1]`` from a pydantic error location."""
    parts: list[str] = []
    node = raw
    for i, key in enumerate(loc):
        if isinstance(key, int):
            label = f"[{key}]"
            item = node[key] if isinstance(node, list) and 0 <= key < len(node) else None
            if i >= 1 and loc[i - 1] == "intents" and isinstance(item, dict) and item.get("name"):
                label += f" ({item['name']})"
            parts.append(label)
            node = item
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def _describe(exc: ValidationError, raw: Any) -> str:
    return "; ".join(
        f"{_where(tuple(err.get('loc', ())), raw)}: {err.get('msg', 'invalid')}"
        for err in exc.errors()
    )


def parse_spec(raw: Any, *, source: str, sha256: str = "") -> IntentSpec:
    """Validate a spec already read from YAML.

    Raises:
        InvalidInputError: naming the intent and field of every problem found.
    """
    from models.language_detector import LanguageDetector

    if not isinstance(raw, dict):
        raise InvalidInputError(f"intents spec {source}: the file must be a YAML mapping")
    try:
        parsed = _SpecFile.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInputError(f"intents spec {source}: {_describe(exc, raw)}") from exc

    problems: list[str] = []
    first_at: dict[str, int] = {}
    owner: dict[str, str] = {}
    for i, entry in enumerate(parsed.intents):
        where = f"intents[{i}] ({entry.name})"
        if entry.name == OOS_LABEL:
            problems.append(f"{where}.name: {OOS_LABEL!r} is reserved for messages no intent fits")
        if entry.name in first_at:
            problems.append(
                f"{where}.name: duplicate of intents[{first_at[entry.name]}] ({entry.name})"
            )
        first_at.setdefault(entry.name, i)
        seen: set[str] = set()
        for j, example in enumerate(entry.examples):
            key = normalised_example(example)
            if key in seen:
                problems.append(f"{where}.examples[{j}]: repeats an earlier example of this intent")
                continue
            seen.add(key)
            other = owner.get(key)
            if other is not None and other != entry.name:
                problems.append(
                    f"{where}.examples[{j}]: the same example is also given for intent "
                    f"{other!r}; an example must belong to one intent"
                )
            owner.setdefault(key, entry.name)
    codes = [c.strip().lower() for c in parsed.languages.supported]
    try:
        LanguageDetector(supported=codes)
    except ValueError as exc:
        problems.append(f"languages.supported: {exc}")
    if problems:
        raise InvalidInputError(f"intents spec {source}: " + "; ".join(problems))
    return IntentSpec(
        name=parsed.name,
        intents=tuple(
            IntentDefinition(
                name=e.name,
                description=e.description,
                examples=tuple(e.examples),
                category=e.category.upper() if e.category else None,
                auto_reply=e.auto_reply,
            )
            for e in parsed.intents
        ),
        languages=LanguagePolicy(supported=tuple(codes), queue=parsed.languages.queue),
        source=source,
        sha256=sha256,
    )


def load_spec(path: Path) -> IntentSpec:
    """Read and validate an intents spec file.

    Raises:
        InvalidInputError: unreadable file, broken YAML, or an invalid spec.
    """
    import hashlib

    try:
        data = path.read_bytes()
        raw = yaml.safe_load(data.decode("utf-8-sig"))
    except OSError as exc:
        raise InvalidInputError(f"intents spec {path}: cannot read it ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"intents spec {path}: not UTF-8 text ({exc})") from exc
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"intents spec {path}: not valid YAML ({exc})") from exc
    return parse_spec(raw, source=str(path), sha256=hashlib.sha256(data).hexdigest())
