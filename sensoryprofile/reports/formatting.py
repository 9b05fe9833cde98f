"""Presenting numbers, dates and tables: rounding happens here and only here.

Every report model (child, caseload, cohort) formats its tables with these
functions, so a percentage, a p-value or an interval reads the same way in
every report. Missing values (None, NaN, NA) print as an empty string.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from sensoryprofile.errors import UsageError


def is_missing(value) -> bool:
    """True for None, NaN, NA and NaT (scalars only)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def percent(value, digits: int = 0) -> str:
    """A share (0..1) as a percentage: ``percent(0.4167)`` -> '42%'.

    >>> percent(0.4167), percent(0.4167, 1), percent(None)
    ('42%', '41.7%', '')
    """
    return "" if is_missing(value) else f"{float(value):.{digits}%}"


def number(value, digits: int = 1, *, signed: bool = False) -> str:
    """A number rounded for reading: ``number(3.14159, 2)`` -> '3.14'.

    >>> number(3.14159, 2), number(2, 0, signed=True), number(float("nan"))
    ('3.14', '+2', '')
    """
    if is_missing(value):
        return ""
    return f"{float(value):+.{digits}f}" if signed else f"{float(value):.{digits}f}"


def p_value(value) -> str:
    """A p-value: three decimals, '< 0.001' below that.

    >>> p_value(0.04321), p_value(0.0002)
    ('0.043', '< 0.001')
    """
    if is_missing(value):
        return ""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def span(low, high, digits: int = 1, *, signed: bool = False) -> str:
    """An interval as 'low to high' ('' when either end is missing).

    >>> span(-1.25, 3.5), span(0.1, None)
    ('-1.2 to 3.5', '')
    """
    if is_missing(low) or is_missing(high):
        return ""
    return f"{number(low, digits, signed=signed)} to {number(high, digits, signed=signed)}"


def with_interval(value, low, high, digits: int = 2) -> str:
    """'value (low to high)', or the value alone when the interval is missing.

    >>> with_interval(0.5, 0.25, 0.75), with_interval(0.5, None, None)
    ('0.50 (0.25 to 0.75)', '0.50')
    """
    if is_missing(value):
        return ""
    text = number(value, digits)
    interval = span(low, high, digits)
    return f"{text} ({interval})" if interval else text


def level_text(level) -> str:
    """A GAS or classification level with its sign: '+1', '0', '-2'.

    >>> level_text(1), level_text(0), level_text(-2)
    ('+1', '0', '-2')
    """
    return "" if is_missing(level) else f"{int(level):+d}".replace("+0", "0")


def iso_date(value) -> str:
    """A date as YYYY-MM-DD."""
    return "" if is_missing(value) else pd.Timestamp(value).date().isoformat()


def long_date(value) -> str:
    """A date in words: '5 March 2024'."""
    if is_missing(value):
        return ""
    value = pd.Timestamp(value)
    return f"{value.day} {value.strftime('%B %Y')}"


def age_text(months) -> str:
    """An age in months as words: '4 years 2 months', '9 months', 'unknown'."""
    if is_missing(months):
        return "unknown"
    years, rest = divmod(int(months), 12)
    return f"{years} years {rest} months" if years else f"{rest} months"


def raw_text(raw, maximum) -> str:
    """A raw score out of its maximum: '41 of 75' (one decimal when prorated)."""
    shown = ("" if is_missing(raw) else f"{raw:.0f}" if float(raw).is_integer()
             else f"{raw:.1f}")
    return f"{shown} of {maximum:.0f}"


#: A table of more rows than this may break across printed pages (between
#: rows, its header row repeated); a shorter one is kept on one page.
SHORT_TABLE_ROWS = 20


def table_html(frame: pd.DataFrame, *, empty: str = "None.", caption: str | None = None,
               row_headers: bool = False) -> str:
    """A table as inert HTML: every cell escaped, no index.

    Parameters
    ----------
    frame : the table as printed.
    empty : the sentence shown instead of a table with no rows.
    caption : what the table shows (plain text), its ``<caption>``.
    row_headers : the first cell of each row is that row's header
        (``<th scope="row">``), as in a list of label and value pairs. A frame
        whose column names are all blank is such a list: it has no header
        row, and its first cells are row headers.

    Returns
    -------
    str
        Column headers are ``<th scope="col">``. A table longer than
        :data:`SHORT_TABLE_ROWS` rows has the class ``sp-long`` (the print
        style lets it break between rows; shorter ones stay on one page).

    Examples
    --------
    >>> frame = pd.DataFrame({"Score": ["Seeking"], "Percentile": ["52"]})
    >>> print(table_html(frame, caption="Scores"))  # doctest: +NORMALIZE_WHITESPACE
    <table class="dataframe sp-table"><caption>Scores</caption>
      <thead>
        <tr>
          <th scope="col">Score</th>
          <th scope="col">Percentile</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <td>Seeking</td>
          <td>52</td>
        </tr>
      </tbody>
    </table>
    """
    if frame.empty:
        return f"<p>{html.escape(empty)}</p>"
    classes = "sp-table sp-long" if len(frame) > SHORT_TABLE_ROWS else "sp-table"
    text = frame.to_html(index=False, escape=True, border=0, classes=classes, na_rep="")
    head_start, head_end = text.find("<thead>"), text.find("</thead>") + len("</thead>")
    head = text[head_start:head_end]
    if all(not str(name).strip() for name in frame.columns):  # label and value pairs
        text = text[:head_start].rstrip(" ") + text[head_end:].lstrip("\n")
        row_headers = True
    else:
        head = head.replace('<tr style="text-align: right;">', "<tr>")
        text = text[:head_start] + head.replace("<th>", '<th scope="col">') + text[head_end:]
    if row_headers:
        text = re.sub(r"(<tr>\s*)<td>(.*?)</td>", r'\1<th scope="row">\2</th>', text,
                      flags=re.DOTALL)
    if caption:
        opening = text.index(">") + 1
        text = f"{text[:opening]}<caption>{html.escape(caption)}</caption>{text[opening:]}"
    return text


def items_html(lines, *, css_class: str, empty: str) -> str:
    """A bulleted list of plain-text lines as inert HTML."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in lines)
    return f"<ul class='{css_class}'>{items}</ul>" if items else f"<p>{html.escape(empty)}</p>"


def paragraph_html(text: str) -> str:
    """One paragraph of plain text as inert HTML."""
    return f"<p>{html.escape(text)}</p>"


def keyed_paragraph(texts: dict[str, str], key: str) -> str:
    """The paragraph ``texts[key]`` as inert HTML (a report model's ``text_html``)."""
    if key not in texts:
        raise UsageError(f"`key` must be one of {list(texts)}, but {key!r} was passed")
    return paragraph_html(texts[key])


__all__ = ["age_text", "items_html", "iso_date", "is_missing", "keyed_paragraph", "level_text",
           "long_date", "number", "p_value", "paragraph_html", "percent", "raw_text", "span",
           "table_html", "with_interval", "SHORT_TABLE_ROWS"]
