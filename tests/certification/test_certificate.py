"""The printed certificate: every text in its own slot, whatever its length, in every script."""

from __future__ import annotations

from itertools import pairwise

import pytest
from flask_babel import force_locale
from fpdf import FPDF

from ibm_lms.certification import certificate

# The longest texts the tool stores: a name from Moodle (255), an academy's name (255), a programme's title.
LONG_NAME = ("Александра-Виктория Константиновна Воскресенская-Преображенская " * 4)[:255]
LONG_ACADEMY = ("Academia de Poliție „Ștefan cel Mare” a Ministerului Afacerilor Interne " * 4)[:255]
LONG_TITLE = ("სერტიფიცირებული ტრენერი: დოკუმენტების უსაფრთხოება და გაყალბების გამოვლენა " * 4)[:255]


def _page() -> FPDF:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(certificate.FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(certificate.FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    return pdf


def _laid_out(app, locale: str, **texts):
    values = {"academy": "Georgian Border Academy", "holder": "Giorgi Kapanadze",
              "programme": "Certified Trainer: Document Security", "valid": "Valid from 1 February 2025 to 1 "
              "February 2028", "state": "REVOKED", **texts}
    with app.test_request_context(), force_locale(locale):
        pdf = _page()
        blocks = certificate.layout(pdf, **values)
        widths = {block.key: max(_width(pdf, block, line) for line in block.lines) for block in blocks}
    return blocks, widths


def _width(pdf: FPDF, block: certificate.Block, line: str) -> float:
    pdf.set_font("DejaVu", block.style, block.size)
    return pdf.get_string_width(line)


@pytest.mark.parametrize("locale", ["en", "ru", "ka", "hy"])
def test_the_longest_name_academy_and_title_overlap_nothing(app, locale):
    blocks, widths = _laid_out(app, locale, academy=LONG_ACADEMY, holder=LONG_NAME, programme=LONG_TITLE)
    for above, below in pairwise(blocks):
        assert above.bottom <= below.top, f"{above.key} reaches {below.key}"
    assert blocks[-1].bottom <= certificate.QR_TOP
    assert all(widths[block.key] <= block.width for block in blocks)
    holder = next(block for block in blocks if block.key == "holder")
    # Shrunk, not cut: the whole name is on the paper.
    assert " ".join(holder.lines).split() == LONG_NAME.split() and holder.size < 22


def test_a_usual_name_keeps_its_size_and_place(app):
    blocks, _ = _laid_out(app, "en", state=None)
    holder = next(block for block in blocks if block.key == "holder")
    assert (holder.size, holder.top, holder.lines) == (22, 76, ("Giorgi Kapanadze",))
    assert [block.key for block in blocks][-1] == "valid"

