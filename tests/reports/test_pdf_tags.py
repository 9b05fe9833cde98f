"""Tagged PDFs (PDF/UA-1): a report printed by the real exporter and template,
from a small notebook built here (no kernel): the structure tree, the charts
as figures with their alternative text, tables with header cells and a
caption, the title and the language."""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat
import pandas as pd
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from sensoryprofile.reports.formatting import table_html
from sensoryprofile.reports.render import PDF_VARIANT, export_html, export_pdf

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">'
       '<rect x="10" y="10" width="120" height="60" fill="#0072B2"/></svg>')
ALT = "Bar chart of active children by site. North: 3; South: 2."


@dataclass
class Structure:
    """What a PDF's catalog and structure tree say."""

    marked: bool
    title: str | None
    lang: str | None
    kinds: set[str] = field(default_factory=set)
    figures: list[tuple[str, int | None]] = field(default_factory=list)  # (alt, page)


def structure(reader: PdfReader) -> Structure:
    """Read the catalog (/MarkInfo, /Lang), the title and the structure tree
    (every element's /S; each /Figure's /Alt and page)."""
    root = reader.trailer["/Root"]
    pages = {p.indirect_reference.idnum: k for k, p in enumerate(reader.pages)}
    info = reader.metadata or {}
    out = Structure(marked=bool(root.get("/MarkInfo", {}).get("/Marked", False)),
                    title=info.get("/Title"), lang=str(root["/Lang"]) if "/Lang" in root else None)

    def walk(node):
        node = node.get_object() if isinstance(node, IndirectObject) else node
        if isinstance(node, dict):
            if "/S" in node:
                out.kinds.add(str(node["/S"]))
            if node.get("/S") == "/Figure":
                ref = node.raw_get("/Pg") if "/Pg" in node else None
                out.figures.append((str(node.get("/Alt", "")), pages.get(ref.idnum)
                                    if isinstance(ref, IndirectObject) else None))
            if "/K" in node:
                walk(node.raw_get("/K"))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    assert "/StructTreeRoot" in root, "the PDF is not tagged"
    walk(root.raw_get("/StructTreeRoot"))
    return out


def _report(tmp_path):
    nb = nbformat.v4.new_notebook()
    table = pd.DataFrame({"Site": ["North", "South"], "Active children": ["3", "2"]})
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Caseload size"),
        nbformat.v4.new_code_cell("", outputs=[
            nbformat.v4.new_output("display_data", data={"text/html": table_html(
                table, caption="Active children by site")}),
            nbformat.v4.new_output("display_data", data={"image/svg+xml": SVG,
                                                          "text/plain": "<Figure>"},
                                   metadata={"image/svg+xml": {"alt": ALT}})]),
    ]
    page = export_html(nb, "Caseload report")
    export_pdf(page, tmp_path / "report.pdf")
    return page, PdfReader(tmp_path / "report.pdf")


def test_the_html_page_carries_the_alt_text_and_the_language(tmp_path):
    page, _ = _report(tmp_path)
    assert '<html lang="en">' in page and "<title>Caseload report</title>" in page
    assert f'alt="{ALT}"' in page and "No description has been provided" not in page
    assert '<th scope="col">Site</th>' in page and "<caption>Active children by site" in page


def test_the_pdf_is_tagged_with_a_title_and_a_language(tmp_path):
    _, reader = _report(tmp_path)
    assert PDF_VARIANT == "pdf/ua-1" and reader.pdf_header == "%PDF-1.7"
    tags = structure(reader)
    assert tags.marked and tags.title == "Caseload report" and tags.lang == "en"
    assert tags.figures == [(ALT, 0)]
    assert {"/Document", "/H2", "/Table", "/Caption", "/TH", "/TD"} <= tags.kinds
    # PDF/UA's identification in the XMP metadata
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert "pdfuaid:part" in xmp
