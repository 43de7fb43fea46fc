"""The printable certificate: one A4 page in the holder's language, with a QR code to its verification page.

The paper is a convenience; the credential is what proves anything. The page says so, and the code leads to
`/verify/<id>`, where the signature, the dates and the revocation list are checked again."""

from __future__ import annotations

import io
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
        pdf.set_font("DejaVu", "", 14)
        pdf.set_xy(20, 22)
        pdf.multi_cell(257, 8, academy, align="C")
        pdf.set_font("DejaVu", "B", 30)
        pdf.set_xy(20, 42)
        pdf.cell(257, 14, gettext("Certificate"), align="C")
        pdf.set_font("DejaVu", "", 13)
        pdf.set_xy(20, 64)
        pdf.cell(257, 8, gettext("This certifies that"), align="C")
        pdf.set_font("DejaVu", "B", 22)
        pdf.set_xy(20, 76)
        pdf.multi_cell(257, 11, row.holder_name or "—", align="C")
        pdf.set_font("DejaVu", "", 13)
        pdf.set_xy(20, 98)
        pdf.cell(257, 8, gettext("is certified as"), align="C")
        pdf.set_font("DejaVu", "B", 16)
        pdf.set_xy(30, 108)
        pdf.multi_cell(237, 9, programme_title(programme, row.tenant_id, row.locale), align="C")
        pdf.set_font("DejaVu", "", 12)
        pdf.set_xy(20, 134)
        pdf.cell(257, 7, gettext("Valid from %(start)s to %(end)s", start=format_date(row.valid_from, "long"),
                                 end=format_date(row.valid_until, "long")), align="C")
        if verdict.status != VALID:
            pdf.set_text_color(170, 20, 20)
            pdf.set_font("DejaVu", "B", 16)
            pdf.set_xy(20, 145)
            state = {"revoked": gettext("REVOKED"), "expired": gettext("EXPIRED")}.get(verdict.status,
                                                                                      gettext("NOT VALID"))
            pdf.cell(257, 9, state, align="C")
            pdf.set_text_color(20, 40, 80)
        pdf.image(_qr_png(verify_url), x=22, y=150, w=40, h=40)
        pdf.set_font("DejaVu", "", 9)
        pdf.set_xy(68, 156)
        pdf.multi_cell(200, 5, "\n".join([
            gettext("Scan the code or open the address below to check this certificate: the page checks the "
                    "academy's signature and whether the certificate was revoked."),
            verify_url,
            gettext("Credential %(id)s", id=row.id),
        ]))
        return bytes(pdf.output())
