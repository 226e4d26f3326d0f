"""Reading a fetched message, whatever state it is in.

``email`` with ``policy.default`` gives the structure (parts, types, dispositions, transfer
decoding); header values, file names and bodies are decoded here, because real mail lies
about its charsets: GB2312 labels on text that uses GBK/GB18030 characters (decoded as
GB18030, its superset), unknown labels (UTF-8, then Latin-1, which never fails), raw 8-bit
headers, broken encoded words. ``parse_message`` never raises: a message it cannot read
comes back with ``unreadable`` set, and the caller keeps its raw source.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import email
import email.header
import email.message
import email.policy
import email.utils
import html
import logging
import re
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser

logger = logging.getLogger(__name__)

# Labels mail clients use for encodings they only approximate.
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "utf8": "utf-8",
}
MAX_TEXT = 200_000


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMessage:
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    date: dt.datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    unreadable: bool = False
    problems: list[str] = field(default_factory=list)


def codec_for(charset) -> str | None:
    """The Python codec for a MIME charset label, or None if unknown."""
    if not charset:
        return None
    name = str(charset).strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset=None, *, guess_chinese: bool = False) -> str:
    """Decode with the declared charset; if it is unknown or wrong, UTF-8; then (for raw
    8-bit headers, where Chinese mailers put GBK) GB18030; then the declared charset with
    replacement characters, or Latin-1 when nothing was declared or known."""
    codec = codec_for(charset)
    tries = [c for c in (codec, "utf-8", "gb18030" if guess_chinese else None) if c]
    for name in dict.fromkeys(tries):
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    if codec:
        return data.decode(codec, errors="replace")
    return data.decode("latin-1")


def _clean(text: str) -> str:
    # PostgreSQL stores no NUL; control characters in a header are noise.
    return text.replace("\x00", "")


def decode_header_value(raw) -> str:
    """An RFC 2047 header value (or a raw 8-bit one) as text."""
    if raw is None:
        return ""
    raw = str(raw)
    try:
        parts = email.header.decode_header(raw)
    except Exception:
        parts = [(raw, None)]
    out = []
    for value, charset in parts:
        if isinstance(value, str):
            try:
                value = value.encode("ascii", "surrogateescape")
            except UnicodeEncodeError:
                out.append(value)
                continue
            out.append(decode_bytes(value, charset, guess_chinese=True))
            continue
        if charset is None:
            # decode_header gives unencoded stretches as raw-unicode-escape bytes.
            with contextlib.suppress(UnicodeDecodeError, UnicodeEncodeError):
                value = value.decode("raw-unicode-escape").encode("ascii", "surrogateescape")
            out.append(decode_bytes(value, None, guess_chinese=True))
        else:
            out.append(decode_bytes(value, charset))
    text = "".join(out)
    return _clean(" ".join(text.split()) if "\n" in text or "\r" in text else text).strip()


def _raw_header(message: email.message.Message, name: str) -> str | None:
    name = name.lower()
    for key, value in message.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _addresses(raw: str | None) -> list[tuple[str, str]]:
    if not raw:
        return []
    try:
        pairs = email.utils.getaddresses([raw])
    except Exception:
        return []
    out = []
    for name, address in pairs:
        address = decode_header_value(address).strip().strip("<>").lower()
        if "@" in address and len(address) <= 254:
            out.append((decode_header_value(name), address))
    return out


_MSGID = re.compile(r"<[^<>\s]+>")


def _message_ids(raw: str | None) -> list[str]:
    return _MSGID.findall(raw or "")[:50]


def _raw_param(part: email.message.Message, header: str, param: str):
    """A parameter as the message carries it: an RFC 2231 (charset, language, value)
    triple or the raw string (possibly RFC 2047 encoded, as Chinese mailers send it)."""
    raw = _raw_header(part, header)
    if raw is None:
        return None
    legacy = email.message.Message()
    legacy[header] = raw
    return legacy.get_param(param, header=header)


def _filename(part: email.message.Message) -> str:
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        try:
            value = _raw_param(part, header, param)
        except Exception:
            value = None
        if not value:
            continue
        if isinstance(value, tuple):
            charset, _lang, text = value
            # The legacy parser has already %-decoded the value into Latin-1 characters.
            try:
                data = (text or "").encode("latin-1")
            except UnicodeEncodeError:
                data = urllib.parse.unquote_to_bytes(text or "")
            name = decode_bytes(data, charset)
        else:
            name = decode_header_value(value)
        name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().strip(".")
        if name:
            return _clean(name)[:255]
    return ""


class _TextFromHtml(HTMLParser):
    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"}
    _SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self._BLOCKS:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.out.append(data)


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body (no tags, no scripts or styles)."""
    parser = _TextFromHtml()
    try:
        parser.feed(markup)
        parser.close()
        text = "".join(parser.out)
    except Exception:
        text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _payload(part: email.message.Message) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _walk(part: email.message.Message, parsed: ParsedMessage, depth: int = 0) -> None:
    if depth > 20:
        parsed.problems.append("nested too deeply")
        return
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        data = inner.as_bytes() if isinstance(inner, email.message.Message) else _payload(part)
        name = _filename(part) or "message.eml"
        parsed.attachments.append(ParsedAttachment(name, ctype, data))
        return
    if part.is_multipart():
        for child in part.get_payload() or []:
            try:
                _walk(child, parsed, depth + 1)
            except Exception as exc:
                parsed.problems.append(f"part: {exc}")
        return
    disposition = part.get_content_disposition()
    filename = _filename(part)
    maintype = part.get_content_maintype()
    data = _payload(part)
    if disposition == "attachment" or filename or maintype != "text":
        if data or filename:
            parsed.attachments.append(
                ParsedAttachment(filename or f"part-{len(parsed.attachments) + 1}", ctype, data)
            )
        return
    try:
        charset = _raw_param(part, "content-type", "charset")
    except Exception:
        charset = None
    text = decode_bytes(data, charset if isinstance(charset, str) else None)
    if ctype == "text/html" and not parsed.html:
        parsed.html = _clean(text)[:MAX_TEXT]
    elif ctype == "text/plain" and not parsed.text:
        parsed.text = _clean(text)[:MAX_TEXT]
    else:
        suffix = ".html" if ctype == "text/html" else ".txt"
        parsed.attachments.append(
            ParsedAttachment(f"part-{len(parsed.attachments) + 1}{suffix}", ctype, data)
        )


def parse_message(raw: bytes) -> ParsedMessage:
    """Everything the inbox needs from one message's source; never raises."""
    try:
        return _parse(raw)
    except Exception as exc:
        logger.warning("unreadable message: %s", exc)
        return ParsedMessage(unreadable=True, problems=[f"{type(exc).__name__}: {exc}"])


def _parse(raw: bytes) -> ParsedMessage:
    if not raw or not raw.strip():
        return ParsedMessage(unreadable=True, problems=["empty message"])
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not message.keys():
        return ParsedMessage(unreadable=True, problems=["no headers"])
    parsed = ParsedMessage()
    parsed.subject = decode_header_value(_raw_header(message, "subject"))[:500]
    senders = _addresses(_raw_header(message, "from")) or _addresses(_raw_header(message, "sender"))
    if senders:
        parsed.from_name, parsed.from_address = senders[0][0][:200], senders[0][1]
    parsed.to = [a for _n, a in _addresses(_raw_header(message, "to"))][:50]
    parsed.cc = [a for _n, a in _addresses(_raw_header(message, "cc"))][:50]
    ids = _message_ids(_raw_header(message, "message-id"))
    parsed.message_id = ids[0][:300] if ids else ""
    reply = _message_ids(_raw_header(message, "in-reply-to"))
    parsed.in_reply_to = reply[0][:300] if reply else ""
    parsed.references = _message_ids(_raw_header(message, "references"))
    try:
        parsed.date = email.utils.parsedate_to_datetime(_raw_header(message, "date") or "")
        if parsed.date is not None and parsed.date.tzinfo is None:
            parsed.date = parsed.date.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError, IndexError):
        parsed.date = None
    _walk(message, parsed)
    if parsed.html and not parsed.text:
        parsed.text = html_to_text(parsed.html)[:MAX_TEXT]
    return parsed
