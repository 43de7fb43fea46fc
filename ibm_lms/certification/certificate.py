"""The printable certificate: one A4 page in the holder's language, with a QR code to its verification page.

The paper is a convenience; the credential is what proves anything. The page says so, and the code leads to
`/verify/<id>`, where the signature, the dates and the revocation list are checked again."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
from flask_babel import force_locale, format_date, gettext
from fpdf import FPDF

from ibm_lms.web import tool_url

from .credentials import VALID, Verdict
from .issuing import programme_title
from .models import Certification
from .rules import Programme

FONTS = Path(__file__).with_name("fonts")


def _qr_png(url: str) -> io.BytesIO:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=8, border=2)
    out.seek(0)
    return out


@dataclass(frozen=True)
class Block:
    """A text of the page, fitted into its slot: drawn from `top`, `height` millimetres tall."""
    key: str
    lines: tuple[str, ...]
    style: str
    size: float
    line_height: float
    x: float
    top: float
    width: float

    @property
    def height(self) -> float:
        return len(self.lines) * self.line_height

    @property
    def bottom(self) -> float:
        return self.top + self.height


# A4 landscape, in millimetres: the frame is 10..200; the QR code and its note take the bottom from QR_TOP.
QR_TOP = 150
SMALLEST_SIZE = 7


def _fitted(pdf: FPDF, key: str, text: str, *, x: float, top: float, width: float, slot: float, style: str,
            size: float, line_height: float) -> Block:
    """The text at the largest size, down to SMALLEST_SIZE, whose lines fit the slot's height; a text that fits
    at no size (none the tool accepts) is cut at the last line that fits. Names and titles are as long as
    Moodle and academies make them (255 characters): at fixed coordinates a long one printed over the next."""
    lines: list[str] = []
    for step in range(int((size - SMALLEST_SIZE) * 2) + 1):
        current = size - step / 2
        pdf.set_font("DejaVu", style, current)
        height = line_height * current / size
        lines = pdf.multi_cell(width, height, text, align="C", dry_run=True, output="LINES")
        if len(lines) * height <= slot:
            return Block(key, tuple(lines), style, current, height, x, top, width)
    room = max(int(slot // height), 1)
    kept = lines[:room]
    kept[-1] = kept[-1][:-2].rstrip() + "…" if len(lines) > room else kept[-1]
    return Block(key, tuple(kept), style, current, height, x, top, width)


def layout(pdf: FPDF, *, academy: str, holder: str, programme: str, valid: str, state: str | None) -> list[Block]:
    """Where each text of the page goes: each in a slot of its own, so that none reaches the next or the QR
    code, whatever the lengths of the academy's name, the holder's name and the programme's title."""
    def fixed(key: str, text: str, top: float, style: str, size: float, line_height: float) -> Block:
        return _fitted(pdf, key, text, x=20, top=top, width=257, slot=line_height, style=style, size=size,
                       line_height=line_height)

    blocks = [
        _fitted(pdf, "academy", academy, x=20, top=22, width=257, slot=18, style="", size=14, line_height=8),
        fixed("title", gettext("Certificate"), 42, "B", 30, 14),
        fixed("certifies", gettext("This certifies that"), 64, "", 13, 8),
        _fitted(pdf, "holder", holder or "—", x=20, top=76, width=257, slot=20, style="B", size=22,
                line_height=11),
        fixed("certified-as", gettext("is certified as"), 98, "", 13, 8),
        _fitted(pdf, "programme", programme, x=30, top=108, width=237, slot=24, style="B", size=16, line_height=9),
        fixed("valid", valid, 134, "", 12, 7),
    ]
    if state is not None:
        blocks.append(fixed("state", state, 142, "B", 16, 7.5))
    return blocks


def render(row: Certification, programme: Programme, academy: str, verdict: Verdict) -> bytes:
    verify_url = tool_url("certification.verify", credential_id=row.id)
    with force_locale(row.locale):
        pdf = FPDF(orientation="L", unit="mm", format="A4")
        pdf.set_title(gettext("Certificate"))
        pdf.set_author(academy)
        pdf.set_creator("IBM Training Suite")
        pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.set_auto_page_break(False)
        pdf.add_page()
        pdf.set_draw_color(30, 60, 110)
        pdf.set_line_width(1.2)
        pdf.rect(10, 10, 277, 190)
        pdf.set_text_color(20, 40, 80)
        state = None
        if verdict.status != VALID:
            state = {"revoked": gettext("REVOKED"), "expired": gettext("EXPIRED")}.get(verdict.status,
                                                                                      gettext("NOT VALID"))
        blocks = layout(pdf, academy=academy, holder=row.holder_name, programme=programme_title(
            programme, row.tenant_id, row.locale), valid=gettext(
            "Valid from %(start)s to %(end)s", start=format_date(row.valid_from, "long"),
            end=format_date(row.valid_until, "long")), state=state)
        for block in blocks:
            if block.key == "state":
                pdf.set_text_color(170, 20, 20)
            pdf.set_font("DejaVu", block.style, block.size)
            pdf.set_xy(block.x, block.top)
            pdf.multi_cell(block.width, block.line_height, "\n".join(block.lines), align="C")
            pdf.set_text_color(20, 40, 80)
        pdf.image(_qr_png(verify_url), x=22, y=QR_TOP, w=40, h=40)
        pdf.set_font("DejaVu", "", 9)
        pdf.set_xy(68, 156)
        pdf.multi_cell(200, 5, "\n".join([
            gettext("Scan the code or open the address below to check this certificate: the page checks the "
                    "academy's signature and whether the certificate was revoked."),
            verify_url,
            gettext("Credential %(id)s", id=row.id),
        ]))
        return bytes(pdf.output())
