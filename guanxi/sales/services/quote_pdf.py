"""A quote as a PDF (WeasyPrint), in the quote's language (Chinese or English), with
Debian's Noto CJK fonts so Chinese renders as text, not boxes. The company header is the
workspace's name; lines, tax and totals follow the quote's stored amounts."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from ..models import Quote


def _context(quote: Quote) -> dict:
    lines = list(quote.lines.select_related("product").order_by("position"))
    customer = quote.account or quote.contact
    return {
        "quote": quote,
        "lines": lines,
        "customer": customer,
        "contact": quote.contact,
        "company": quote.workspace.name,
        "owner": quote.owner,
        "english": quote.language == "en",
    }


def quote_pdf_html(quote: Quote) -> str:
    with translation.override(quote.language or "zh-hans"):
        return render_to_string("sales/quotes/pdf.html", _context(quote))


def quote_pdf_bytes(quote: Quote) -> bytes:
    """The PDF of one quote. Rights are the caller's: the page and the API fetch the quote
    through the selector first."""
    from weasyprint import HTML

    return HTML(string=quote_pdf_html(quote)).write_pdf()


def quote_pdf_filename(quote: Quote) -> str:
    return f"{quote.number}-v{quote.version_number}.pdf"
