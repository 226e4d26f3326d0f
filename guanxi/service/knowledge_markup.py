"""Articles are written in a small, safe part of Markdown, rendered here without a library:
headings (``#``), paragraphs (a blank line between them; a single line break is kept),
lists (``-``, ``*``, ``1.``), quotes (``>``), code blocks (three back-ticks), and inline
``**bold**``, ``*italic*``, `` `code` ``, links ``[text](https://…)`` and bare web
addresses. Everything else is text: every character the author typed is HTML-escaped,
and links go only to http(s), mailto or this site's own paths."""

from __future__ import annotations

import html
import re

from django.utils.safestring import SafeString, mark_safe

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}\d{1,9}[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_FENCE = re.compile(r"^\s{0,3}```")
_INLINE = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|(?P<link>!?\[(?P<text>[^\]\n]*)\]\((?P<url>[^)\s]+)\))"
    r"|(?P<bold>\*\*(?P<strong>[^*\n]+?)\*\*)"
    r"|(?P<italic>(?<![\w*])\*(?P<em>[^*\s][^*\n]*?)\*(?![\w*]))"
    r"|(?P<bare>https?://[^\s<>\"'（），。！？、；：“”]+[^\s<>\"'（），。！？、；：“”.,;:!?)])"
)
_SAFE_URL = re.compile(r"^(https?://|mailto:|/(?!/))", re.IGNORECASE)


def _link(url: str, text_html: str) -> str:
    if not _SAFE_URL.match(url):
        return text_html
    return f'<a href="{html.escape(url)}" rel="noopener nofollow">{text_html}</a>'


def inline(text: str) -> str:
    """HTML of one line's inline markup; everything else escaped."""
    out, at = [], 0
    for found in _INLINE.finditer(text):
        out.append(html.escape(text[at : found.start()]))
        at = found.end()
        if found.group("code"):
            out.append(f"<code>{html.escape(found.group('code')[1:-1])}</code>")
        elif found.group("link"):
            label = found.group("text") or found.group("url")
            out.append(_link(found.group("url"), html.escape(label)))
        elif found.group("bold"):
            out.append(f"<strong>{inline(found.group('strong'))}</strong>")
        elif found.group("italic"):
            out.append(f"<em>{inline(found.group('em'))}</em>")
        else:
            url = found.group("bare")
            out.append(_link(url, html.escape(url)))
    out.append(html.escape(text[at:]))
    return "".join(out)


def render(text: str) -> SafeString:
    """The article's text as HTML (see the module's docstring for what is understood)."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    quote: list[str] = []

    def close_paragraph():
        if paragraph:
            blocks.append("<p>" + "<br>".join(inline(line.strip()) for line in paragraph) + "</p>")
            paragraph.clear()

    def close_list():
        nonlocal list_tag
        if items:
            body = "".join(f"<li>{inline(item)}</li>" for item in items)
            blocks.append(f"<{list_tag}>{body}</{list_tag}>")
            items.clear()
        list_tag = ""

    def close_quote():
        if quote:
            blocks.append(
                "<blockquote><p>"
                + "<br>".join(inline(line) for line in quote)
                + "</p></blockquote>"
            )
            quote.clear()

    def close_all():
        close_paragraph()
        close_list()
        close_quote()

    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _FENCE.match(line):
            close_all()
            code = []
            while index < len(lines) and not _FENCE.match(lines[index]):
                code.append(lines[index])
                index += 1
            index += 1  # the closing fence
            blocks.append("<pre><code>" + html.escape("\n".join(code)) + "</code></pre>")
            continue
        if not line.strip():
            close_all()
            continue
        heading = _HEADING.match(line)
        if heading:
            close_all()
            level = min(len(heading.group(1)) + 1, 6)
            blocks.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
            continue
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        if bullet or numbered:
            tag = "ul" if bullet else "ol"
            if tag != list_tag:
                close_all()
                list_tag = tag
            items.append((bullet or numbered).group(1))
            continue
        quoted = _QUOTE.match(line)
        if quoted:
            close_paragraph()
            close_list()
            quote.append(quoted.group(1))
            continue
        if items and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()  # a list item's continued line
            continue
        close_list()
        close_quote()
        paragraph.append(line)
    close_all()
    return mark_safe("\n".join(blocks))
