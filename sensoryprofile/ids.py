"""IDs become file names and spreadsheet cells: check them before any path is
built. 1 to 64 letters, digits, '_' or '-', not starting with '-' (so no ID
is read as an option, or as a formula by a spreadsheet program)."""

from __future__ import annotations

import re

from sensoryprofile.errors import UsageError

ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$"
#: The rule in words, for messages.
ID_RULE = ("IDs use 1 to 64 letters, digits, '_' or '-', and do not start with '-' (they "
           "become file names)")
_ID = re.compile(ID_PATTERN)


def is_valid_id(value) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def check_id(value, what: str = "child_id") -> str:
    """Refuse an ID outside ``[A-Za-z0-9_-]{1,64}`` (``../../etc`` never becomes a path)."""
    if not is_valid_id(value):
        raise UsageError(f"`{what}` must be 1 to 64 letters, digits, '_' or '-', not starting "
                         f"with '-', but {str(value)[:80]!r} was passed")
    return value
