"""IDs become file names: check them before any path is built."""

from __future__ import annotations

import re

from sensoryprofile.errors import UsageError

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_ID = re.compile(ID_PATTERN)


def is_valid_id(value) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def check_id(value, what: str = "child_id") -> str:
    """Refuse an ID outside ``[A-Za-z0-9_-]{1,64}`` (``../../etc`` never becomes a path)."""
    if not is_valid_id(value):
        raise UsageError(f"`{what}` must be 1 to 64 letters, digits, '_' or '-', but "
                         f"{str(value)[:80]!r} was passed")
    return value
