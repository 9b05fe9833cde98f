"""Item cells -> response codes: every cell becomes a small integer once, at
the edge, and the scoring core works on those codes only.

A cell is blank, off the instrument's response scale, or one of the scale's
values (numbers, numbers written as text, or the scale's labels in any case).
:func:`encode_item_columns` reads a wide table's item columns into an int8
code array; :class:`ResponseCodec` says what each code adds to a raw score
and how it counts (answered, missing, "does not apply", off the scale).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sensoryprofile.instruments import Instrument
from sensoryprofile.measures.chunks import run_blocks

BLANK = 0      # code of a blank (missing) cell
OFF = 1        # code of a cell whose value is not on the scale
FIRST_VALUE = 2  # code of the scale's k-th allowed value is FIRST_VALUE + k


@dataclass(frozen=True)
class ResponseCodec:
    """Maps cells to int8 codes and codes to what they contribute.

    ``allowed`` are the scale's numbers, ascending. ``contrib[code]`` is what a
    cell adds to a raw score; ``packed[code]`` packs the counts answered,
    missing, not-applicable and off-scale as ``a + B*m + B^2*na + B^3*off`` so
    that one sum over a score's items gives all four (exact: ``B`` exceeds any
    score's item count and the total stays within the float's integer range).
    ``lut[code]`` is ``contrib * B^4 + packed`` when contributions are whole
    numbers >= 0 and a score's total stays exact in ``lut``'s float type
    (``sum_base`` is then ``B^4``): one sum gives the raw score and the four
    counts. Otherwise ``lut`` is None and the two are summed separately.
    """

    allowed: np.ndarray
    contrib: np.ndarray
    packed: np.ndarray
    base: float
    int_lut: np.ndarray | None  # value - int_lo -> code, for integer scales
    int_lo: int
    lut: np.ndarray | None = None
    sum_base: float = 0.0
    #: the same for a reverse-keyed item: an answer v adds (lowest + highest
    #: answer) - v; "does not apply", blanks and off-scale cells as above
    contrib_rev: np.ndarray | None = None
    lut_rev: np.ndarray | None = None
    #: the code of a float64 cell by its top 16 bits (sign, exponent and four
    #: mantissa bits), for cells whose lower 48 bits are zero; None when an
    #: allowed value needs more bits (:meth:`encode_float64`)
    top_lut: np.ndarray | None = None

    @classmethod
    def build(cls, inst: Instrument) -> ResponseCodec:
        scale = inst.response_scale
        allowed = np.array(scale.allowed_values, dtype=float)
        is_na = np.isin(allowed, scale.na_codes)
        counts_as = scale.na_counts_as
        value_contrib = np.where(is_na, 0.0 if counts_as is None else counts_as, allowed)
        integral = bool(np.all(value_contrib == np.round(value_contrib)))
        # a power of two above every score's item count: counts unpack by shifts
        base = float(2 ** int(np.ceil(np.log2(int(inst.compiled.n_items.max(initial=0)) + 1))))
        dtype = np.float32 if (integral and base**4 <= 2**24) else np.float64
        contrib = np.concatenate([[0.0, 0.0], value_contrib]).astype(dtype)
        packed = np.concatenate([[base, base**3], np.where(is_na, base**2, 1.0)]).astype(dtype)
        int_lut, int_lo = None, 0
        if np.all(allowed == np.round(allowed)) and allowed.max() - allowed.min() < 120:
            int_lo = int(allowed.min()) - 1
            span = int(allowed.max()) - int_lo + 2
            int_lut = np.full(span, OFF, dtype=np.int8)
            int_lut[(allowed - int_lo).astype(int)] = FIRST_VALUE + np.arange(len(allowed))
        lut, sum_base = None, 0.0
        if integral and value_contrib.min(initial=0.0) >= 0:
            # the largest packed total: every item of the largest score at the top value
            top = (float(value_contrib.max(initial=0.0)) * (base - 1) + 1) * base**4
            for candidate in (np.float32, np.float64):
                if top <= 2.0 ** (np.finfo(candidate).nmant + 1):
                    sum_base = base**4
                    lut = (np.concatenate([[0.0, 0.0], value_contrib]) * sum_base
                           + packed.astype(np.float64)).astype(candidate)
                    break
        contrib_rev = lut_rev = None
        if bool(inst.compiled.item_reverse.any()):
            answers = allowed[~is_na]
            reversed_values = np.where(is_na, value_contrib, answers.min() + answers.max()
                                       - allowed)
            contrib_rev = np.concatenate([[0.0, 0.0], reversed_values]).astype(contrib.dtype)
            if lut is not None:
                lut_rev = (np.concatenate([[0.0, 0.0], reversed_values]) * sum_base
                           + packed.astype(np.float64)).astype(lut.dtype)
        return cls(allowed=allowed, contrib=contrib, packed=packed, base=base,
                   int_lut=int_lut, int_lo=int_lo, lut=lut, sum_base=sum_base,
                   contrib_rev=contrib_rev, lut_rev=lut_rev, top_lut=_top_lut(allowed))

    def encode(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """int8 codes of numeric cells (NaN = blank); any shape. ``out``: a
        one-dimensional int8 array to write them to (for 1-D ``values``)."""
        values = np.asarray(values)
        if (self.top_lut is not None and values.dtype == np.float64 and values.ndim == 1
                and values.flags.c_contiguous and sys.byteorder == "little"):
            codes = np.empty(values.shape, dtype=np.int8) if out is None else out
            self.encode_float64(values, codes)
            return codes
        return self.encode_exact(values, out)

    def encode_exact(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """:meth:`encode` by comparing each cell with the scale's values."""
        values = np.asarray(values)
        if self.int_lut is not None:
            hi = len(self.int_lut) - 1
            if values.dtype.kind in "iu":
                idx = np.clip(values, self.int_lo, self.int_lo + hi) - self.int_lo
                return _into(self.int_lut[idx], out)
            flat = values.astype(float, copy=False).reshape(-1)
            codes = np.empty(flat.shape, dtype=np.int8) if out is None else out
            for start in range(0, flat.size, PIECE):  # pieces that stay in the cache
                self._encode_piece(flat[start:start + PIECE], codes[start:start + PIECE])
            return codes.reshape(values.shape)
        values = values.astype(float)
        pos = np.clip(np.searchsorted(self.allowed, values), 0, len(self.allowed) - 1)
        codes = np.where(self.allowed[pos] == values, FIRST_VALUE + pos, OFF).astype(np.int8)
        codes[np.isnan(values)] = BLANK
        return _into(codes, out)


    def encode_float64(self, values: np.ndarray, out: np.ndarray) -> None:
        """Codes of a 1-D float64 column into ``out``, read from the cells' bits.

        Most cells are whole numbers or NaN, whose lower 48 bits are all zero:
        for those the top 16 bits alone say which value it is (``top_lut``;
        every allowed value is such a number, each with its own top bits, and
        -0.0 is 0). Each cell is looked up there, then the few cells with any
        lower bit set (fractions, NaN payloads, tiny numbers) are encoded
        again by :meth:`encode_exact`, so every cell gets the code the
        comparison with the scale would give.
        """
        words = values.view(np.uint16)  # little-endian: the top 16 bits are word 3
        for start in range(0, len(values), PIECE):  # pieces that stay in the cache
            stop = min(start + PIECE, len(values))
            # mode="clip": unbuffered (any 16 bits index the 2**16 entries)
            np.take(self.top_lut, words[4 * start + 3:4 * stop:4], out=out[start:stop],
                    mode="clip")
            low = values[start:stop].view(np.uint64) << np.uint64(16)
            if np.count_nonzero(low):
                rest = np.flatnonzero(low) + start
                out[rest] = self.encode_exact(values[rest])

    def _encode_piece(self, values: np.ndarray, out: np.ndarray) -> None:
        """Codes of float cells on an integer scale, into ``out``.

        ``value - int_lo`` is held within the look-up table (``fmax`` also
        turns NaN into 0) and truncated; both ends of the table are OFF, so
        values off the range land there. Fractions are OFF, NaN blank.
        """
        shifted = values - self.int_lo
        np.fmax(shifted, 0, out=shifted)
        np.fmin(shifted, len(self.int_lut) - 1, out=shifted)
        index = shifted.astype(np.intp)
        np.take(self.int_lut, index, out=out)
        # anything but a whole number of the table is OFF: compared with the cell
        # itself, since value - int_lo can round a tiny fraction away (1e-308 + 1 == 1)
        out[(index + self.int_lo) != values] = OFF
        out[np.isnan(values)] = BLANK


#: Cells encoded at a time (a piece and its temporaries stay in the cache).
PIECE = 32_768


def _top_lut(allowed: np.ndarray) -> np.ndarray | None:
    """The code of every float64 bit pattern whose lower 48 bits are zero, by
    its top 16 bits: an allowed value's code (-0.0 that of 0), BLANK for NaN,
    OFF for anything else (infinities included). None when an allowed value
    has a lower bit set (it could not be told apart by its top bits)."""
    bits = np.asarray(allowed, dtype=np.float64).view(np.uint64)
    if np.any(bits & np.uint64(0xFFFF_FFFF_FFFF)):
        return None
    lut = np.full(1 << 16, OFF, dtype=np.int8)
    top = np.arange(1 << 16)
    exponent_all_ones = (top & 0x7FF0) == 0x7FF0
    lut[exponent_all_ones & ((top & 0x000F) != 0)] = BLANK  # NaN (0x7FF0: infinity)
    for k, value in enumerate(allowed):
        lut[int(bits[k] >> np.uint64(48))] = FIRST_VALUE + k
        if value == 0:
            lut[int(np.array(-0.0).view(np.uint64) >> np.uint64(48))] = FIRST_VALUE + k
    return lut


def _into(codes: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    if out is None:
        return codes
    out[:] = codes
    return out


def codec_for(inst: Instrument) -> ResponseCodec:
    """The instrument's codec, built once and cached on the (immutable) instrument."""
    codec = inst.__dict__.get("_codec")
    if codec is None:
        codec = inst.__dict__["_codec"] = ResponseCodec.build(inst)
    return codec


@dataclass
class CellProblems:
    """Off-scale cells found by :func:`encode_item_columns` (rows, cols, raw values)."""

    rows: np.ndarray
    cols: np.ndarray
    values: list


def allowed_text(inst: Instrument) -> str:
    """The rule an off-scale cell breaks, naming the allowed values."""
    nums = ", ".join(f"{v:g}" for v in inst.response_scale.allowed_values)
    return f"not on {inst.id}'s response scale; allowed: {nums} (or their labels)"


def encode_item_columns(frame: pd.DataFrame, instrument: Instrument) -> tuple[
        np.ndarray, CellProblems]:
    """The item columns of ``frame`` as int8 response codes, ``(n, n_items)``
    in ``instrument.item_ids`` order (Fortran order: one column per item).

    Numbers stored as text, surrounding spaces and response labels (any case)
    are read. Columns absent from ``frame`` are all blank. Off-scale cells get
    the OFF code and are listed in the returned :class:`CellProblems`.
    Loops over item columns only, never over rows.
    """
    n = len(frame)
    codec = codec_for(instrument)
    labels = {label.strip().casefold(): number
              for label, number in instrument.response_scale.values.items()}
    item_ids = instrument.item_ids
    # every column is written below (an absent one as blank): no fill beforehand
    codes = np.empty((n, len(item_ids)), dtype=np.int8, order="F")
    numeric = []  # (column, its numbers): encoded below, on two threads when large
    for j, item in enumerate(item_ids):
        if item not in frame.columns:
            codes[:, j] = BLANK
            continue
        col = frame[item]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            arr = col.to_numpy()
            if arr.dtype == object or pd.api.types.is_extension_array_dtype(col):
                arr = col.to_numpy(dtype=float, na_value=np.nan)
            numeric.append((j, arr))
            continue
        text = col.astype("string").str.strip()
        text = text.mask(text == "")
        number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        unparsed = text.notna().to_numpy() & np.isnan(number)
        if unparsed.any():
            mapped = text[unparsed].str.casefold().map(labels)
            number[unparsed] = mapped.to_numpy(dtype=float, na_value=np.nan)
        column_codes = codec.encode(number)
        column_codes[unparsed & np.isnan(number)] = OFF
        codes[:, j] = column_codes

    off_rows: list = [None] * len(item_ids)  # each column's off-scale rows

    def encode_column(j: int, arr: np.ndarray | None) -> None:
        """Encode a numeric column (``arr`` given) and find its off-scale
        cells, on the thread that has the column in hand."""
        if arr is not None:
            codec.encode(arr, out=codes[:, j])
        off_rows[j] = np.flatnonzero(codes[:, j] == OFF)

    todo = dict(numeric)
    run_blocks(encode_column, [(j, todo.get(j)) for j in range(len(item_ids))], rows=n)
    rows_list, cols_list = [], []
    for j, found in enumerate(off_rows):
        if len(found):
            rows_list.append(found)
            cols_list.append(np.full(len(found), j))
    rows = np.concatenate(rows_list) if rows_list else np.zeros(0, dtype=np.intp)
    cols = np.concatenate(cols_list) if cols_list else np.zeros(0, dtype=np.intp)
    order = np.lexsort((cols, rows))  # report in reading order: by row, then column
    rows, cols = rows[order], cols[order]
    shown = [frame[item_ids[c]].iloc[r] for r, c in zip(rows, cols, strict=True)]
    return codes, CellProblems(rows=rows, cols=cols, values=shown)
