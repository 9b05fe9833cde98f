"""Secret keys, keyed pseudonyms and random study codes of de-identified exports.

Two ways to replace an ID, for the two modes of :mod:`sensoryprofile.data.export`
(docs/privacy.md explains which HIPAA route each supports):

* :class:`Pseudonymiser` (keyed mode): HMAC-SHA256 of the ID under a secret
  key. The same key gives the same pseudonym in every export, so extracts
  link; the pseudonym is *derived* from the ID, which HIPAA Safe Harbor does
  not allow for a re-identification code (45 CFR 164.514(c)).
* :class:`StudyCodes` (strict mode): random codes from :mod:`secrets`, new in
  every export, derived from nothing; the clinic keeps the table linking its
  IDs to them (:meth:`StudyCodes.linkage`).

A key is 32 random bytes written by :func:`new_key`. :func:`read_key` refuses a
weak key (:func:`key_weakness`); no message ever shows a key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.errors import UsageError

log = logging.getLogger(__name__)

KEY_BYTES = 32
FINGERPRINT_HEX = 8
ID_HEX = 16     # hex digits of an ID pseudonym or study code (64 bits)
LABEL_HEX = 8   # hex digits of a site / therapist / rater pseudonym
#: Keyed pseudonyms: prefix per kind.
PREFIXES = {
    C.CHILD_ID: "C-",
    C.ASSESSMENT_ID: "A-",
    C.GOAL_ID: "G-",
    C.SITE: "site-",
    C.THERAPIST: "therapist-",
    C.RATER: "rater-",
}
#: Random study codes (strict mode): prefix per kind ("S" for study code), so
#: that a study code is never mistaken for a keyed pseudonym.
STUDY_PREFIXES = {
    C.CHILD_ID: "SC-",
    C.ASSESSMENT_ID: "SA-",
    C.GOAL_ID: "SG-",
}
#: Keyed date shifts: every date moves back this many days (10436 weeks, about
#: 200 years) ...
DATE_SHIFT_BASE_DAYS = 7 * 10436
#: ... plus a per-child keyed jitter of -26 to +26 whole weeks.
DATE_SHIFT_JITTER_WEEKS = 26
#: A key needs at least this many distinct byte values, and at least this
#: many distinct steps between successive bytes. 32 random bytes have about
#: 30 distinct values; fewer than 16 happens by chance with probability
#: 3.2e-17 (and fewer than 16 distinct steps among the 31 steps, which are
#: themselves independent uniform bytes, 4.6e-16): see :func:`key_weakness`.
MIN_DISTINCT_BYTES = 16


# ---------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------
def _period(key: bytes) -> int | None:
    """The shortest block the key repeats (``key[i] == key[i - p]`` for
    every ``i >= p``), when it is at most half the key; else None."""
    for p in range(1, len(key) // 2 + 1):
        if key[p:] == key[:-p]:
            return p
    return None


def key_weakness(key: bytes) -> str | None:
    """Why ``key`` is too weak to use, or None when it is not.

    A key is weak when any of these holds, checked in this order:

    1. it is shorter than :data:`KEY_BYTES` (32) bytes;
    2. every byte has the same value (e.g. all zero);
    3. it repeats a block of at most half its length (the same 4 or 8 or 16
       bytes over and over): ``key[i] == key[i - p]`` for all ``i >= p``;
    4. it has fewer than :data:`MIN_DISTINCT_BYTES` (16) distinct byte values;
    5. its successive steps ``(key[i+1] - key[i]) mod 256`` take fewer than 16
       distinct values (a counter such as 00 01 02 ..., or a stride).

    Notes
    -----
    For 32 bytes from :func:`secrets.token_bytes`, rule 3 holds with
    probability at most the sum over p = 1..16 of 256**-(32 - p), about 3e-39
    (rule 2 is its case p = 1); rule 4 with probability 3.2e-17
    (the number of distinct values among 32 uniform draws from 256 is below 16;
    its mean is 256 * (1 - (255/256)**32) = 30.1); rule 5 with 4.6e-16 (the
    31 steps of uniform independent bytes are themselves uniform and
    independent). Computed exactly by counting the sequences with d distinct
    values (a recursion over draws). :func:`new_key` draws again in that case,
    so it never writes a key these rules refuse.

    The message says which rule failed and never shows the key.
    """
    if len(key) < KEY_BYTES:
        return f"it holds {len(key)} bytes; a key needs at least {KEY_BYTES}"
    distinct = len(set(key))
    if distinct == 1:
        return "every byte has the same value (for example all zero)"
    period = _period(key)
    if period is not None:
        return f"it repeats the same block of {period} bytes"
    if distinct < MIN_DISTINCT_BYTES:
        return (f"it has only {distinct} distinct byte values (a random key has about 30; "
                f"at least {MIN_DISTINCT_BYTES} are required)")
    steps = len({(b - a) % 256 for a, b in zip(key, key[1:], strict=False)})
    if steps < MIN_DISTINCT_BYTES:
        return (f"its successive bytes step by only {steps} distinct amounts, like a counter "
                f"(at least {MIN_DISTINCT_BYTES} are required)")
    return None


def new_key(path: str | Path) -> Path:
    """Write a new secret key: 32 random bytes, hex-encoded, mode 0o600.

    The file is created with ``O_CREAT | O_EXCL`` (owner read/write only), so
    an existing file, or a symbolic link, is never overwritten. The bytes come
    from :func:`secrets.token_bytes`, drawn again in the (about 1 in 10**15)
    case that :func:`key_weakness` would refuse them.

    Returns
    -------
    Path of the key file.

    Raises
    ------
    UsageError
        The file already exists, or its folder does not.
    """
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise UsageError(f"{path}: a file already exists there; a key is never overwritten "
                         "(exports made with it would no longer link). Choose another path."
                         ) from None
    except FileNotFoundError:
        raise UsageError(f"{path}: its folder does not exist") from None
    key = secrets.token_bytes(KEY_BYTES)
    while key_weakness(key) is not None:
        key = secrets.token_bytes(KEY_BYTES)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # exactly 0o600, whatever the umask
        os.write(fd, (key.hex() + "\n").encode("ascii"))
    finally:
        os.close(fd)
    log.info("new export key written (fingerprint %s)", key_fingerprint(read_key(path)))
    return path


def read_key(path: str | Path) -> bytes:
    """The secret key in a key file written by :func:`new_key`.

    Refuses (:class:`UsageError`) a missing file, a file that group or others
    may read (on POSIX systems), anything but at least 32 hex-encoded bytes,
    and a weak key (:func:`key_weakness`). Messages never show the key.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such key file; create one with new_key() "
                         "(`sensoryprofile export --new-key`) and keep it apart from exports"
                         ) from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path}: the key file is not a regular file")
    if os.name == "posix" and info.st_mode & 0o077:
        raise UsageError(f"{path}: the key file may be read by group or others (mode "
                         f"{stat.S_IMODE(info.st_mode):#o}); restrict it with "
                         f"`chmod 600 {path}`: anyone with the key can re-link pseudonyms")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise UsageError(f"{path}: not a key file: a key is at least {KEY_BYTES} bytes written "
                         f"as {2 * KEY_BYTES} hex digits, as new_key() writes"
                         + (f" (this one holds {len(key)} bytes)" if key else ""))
    weakness = key_weakness(key)
    if weakness:
        raise UsageError(f"{path}: the key is too weak to use: {weakness}. Create a new one "
                         "with `sensoryprofile export --new-key FILE` (new_key()); exports "
                         "made with it will not link to earlier ones")
    return key


def key_fingerprint(key: bytes) -> str:
    """First 8 hex digits of the key's SHA-256: names a key without revealing it."""
    return hashlib.sha256(key).hexdigest()[:FINGERPRINT_HEX]


# ---------------------------------------------------------------------------
# pseudonyms and study codes
# ---------------------------------------------------------------------------
class Pseudonymiser:
    """Keyed pseudonyms and date offsets (HMAC-SHA256), namespaced by kind."""

    def __init__(self, key: bytes):
        self._key = bytes(key)

    def _digest(self, kind: str, value: str) -> bytes:
        message = kind.encode("utf-8") + b"\x00" + str(value).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def pseudonym(self, kind: str, value: str) -> str:
        """``PREFIXES[kind]`` + hex digits of the keyed digest of ``value``."""
        width = ID_HEX if kind in (C.CHILD_ID, C.ASSESSMENT_ID, C.GOAL_ID) else LABEL_HEX
        return PREFIXES[kind] + self._digest(kind, value).hex()[:width]

    def map(self, kind: str, values: pd.Series) -> pd.Series:
        """Pseudonyms of a column (blank stays blank), checked one-to-one."""
        distinct = pd.unique(values.dropna())
        lookup = {v: self.pseudonym(kind, v) for v in distinct}
        if len(set(lookup.values())) != len(lookup):
            raise UsageError(f"two different {kind} values got the same pseudonym (a 1 in "
                             "2^64 chance); create a new key with new_key() and export again")
        return values.map(lookup).astype("object")

    def shift_days(self, child_id: str) -> int:
        """The child's date offset in days: always negative, a whole number of weeks."""
        span = 2 * DATE_SHIFT_JITTER_WEEKS + 1
        jitter = int.from_bytes(self._digest("date-shift", child_id)[:8], "big") % span
        return -DATE_SHIFT_BASE_DAYS + 7 * (jitter - DATE_SHIFT_JITTER_WEEKS)


class StudyCodes:
    """Random study codes (strict mode), one per distinct value of a kind.

    A code is ``STUDY_PREFIXES[kind]`` + 16 hex digits of
    :func:`secrets.token_hex`: derived from nothing about the child, the ID
    or any key, and new in every export (HIPAA Safe Harbor allows such a
    re-identification code, 45 CFR 164.514(c)). The same value gets the same
    code within one export; :meth:`linkage` is the table back to the IDs.
    """

    def __init__(self):
        self._codes: dict[str, dict[str, str]] = {kind: {} for kind in STUDY_PREFIXES}
        self._used: set[str] = set()

    def pseudonym(self, kind: str, value: str) -> str:
        """The value's study code (drawn on first use)."""
        codes = self._codes[kind]
        if value not in codes:
            code = STUDY_PREFIXES[kind] + secrets.token_hex(ID_HEX // 2)
            while code in self._used:  # a 1 in 2^64 chance: draw again
                code = STUDY_PREFIXES[kind] + secrets.token_hex(ID_HEX // 2)
            self._used.add(code)
            codes[value] = code
        return codes[value]

    def map(self, kind: str, values: pd.Series) -> pd.Series:
        """Study codes of a column (blank stays blank)."""
        lookup = {v: self.pseudonym(kind, v) for v in pd.unique(values.dropna())}
        return values.map(lookup).astype("object")

    def linkage(self) -> pd.DataFrame:
        """``id_column, original_id, study_code`` for every code drawn, by
        column then original ID."""
        rows = [(kind, value, code) for kind, codes in self._codes.items()
                for value, code in codes.items()]
        frame = pd.DataFrame(rows, columns=["id_column", "original_id", "study_code"])
        return frame.sort_values(["id_column", "original_id"], kind="stable").reset_index(
            drop=True)
