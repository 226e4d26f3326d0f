"""Chinese-aware search of the knowledge base.

**What is indexed.** An article's title and body are folded as customers' search folds
them (``normalize.fold``: full-width → half-width, traditional → simplified, lower case)
and cut into words with jieba (dictionary only, no HMM, so a text is cut the same way
wherever it appears). Each word is a token; a Chinese word of three or more characters
also gives the dictionary words inside it (打印机 → 打印), as jieba's search mode does; and
every Chinese word gives its single characters, so a one-character query (锁) finds 门锁.
The title's Chinese words also give their pinyin (mima → 密码). ``search_title`` holds the
title's tokens, ``search_text`` the title's and the body's, space-separated, in order
(repeats kept: they are the term frequencies).

**Indexes** (migrations ``0004_knowledge_search``, ``0009_knowledge_search_tsvector``):
on SQLite an FTS5 table (unicode61, which splits exactly where the tokens are separated)
over both columns, kept in step by triggers; on PostgreSQL GIN indexes over
``to_tsvector('simple', column)`` (the same tokens, as they are). A token is
looked up as a whole word, so one and two character Chinese queries are served by the
index as well as long ones.

**Ranking.** A query is folded and cut the same way (without the single characters, and
without stop words such as 的, 怎么, the, how). For each query term the index gives the
matching published articles (at most ``TERM_CAP``). When more than ``MAX_CANDIDATES``
match, a cheap first score (the summed idf of the terms matched, plus again for each term
in the title, from the title index) keeps the best of them. These are ranked by BM25F in
Python (a title occurrence weighs ``TITLE_WEIGHT`` body ones), times the share of the
query's weight they match. The idf needs how many articles are searchable: counted once
a minute (cached; the services forget it when an article is published, taken back,
archived, or changes visibility or language). ``article_suggest`` takes keywords from free text (jieba's TF-IDF) and
searches with them, each weighted by its TF-IDF weight.

Callers check rights; these functions only ever return published articles, and with
``public_only`` only public ones.
"""

from __future__ import annotations

import html
import logging
import math
import re
import threading
import unicodedata
import warnings
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.safestring import SafeString, mark_safe

from guanxi.customers import normalize

from ..models import Article, ArticleStatus, ArticleVisibility

# BM25 parameters (the usual ones) and the weight of a title occurrence.
K1 = 1.2
B = 0.75
TITLE_WEIGHT = 5.0
# How many matches of one term the index gives, and how many articles are ranked fully.
TERM_CAP = 1000
MAX_CANDIDATES = 200
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
MAX_TOKEN_CHARS = 64
SUGGEST_KEYWORDS = 8
SUGGEST_MAX_CHARS = 5000
SNIPPET_CHARS = 140
TOTAL_SECONDS = 60
FTS_TABLE = "service_article_fts"

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_ALL_CJK = re.compile(rf"^[{_CJK}]+$")
_BLOCK_MARKS = re.compile(r"(^|\n)\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+\.\s+|```\w*)")
_LINKS = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_INLINE_MARKS = re.compile(r"\*{1,3}|`|~~")
_SPACES = re.compile(r"\s+")

# Words that say nothing about what an article is about; dropped from queries (unless a
# query has nothing else), kept in the index.
_STOP_WORDS = """
    的 了 是 在 我 你 他 她 它 我们 你们 他们 吗 呢 啊 吧 呀 哦 嗯 着 过 也 都 就 还 又 和 与 及 或
    请 请问 怎么 怎么办 怎么样 怎样 如何 什么 为什么 为何 哪里 哪个 哪些 一个 一下 这个 那个 这 那
    有 没 没有 能 可以 可能 会 要 想 需要 应该 把 被 让 给 对 从 到 向 为 以 之 其 等 吗 么 啥 咋
    a an the to of in on at for and or is are was were be been do does did how what why when
    where which who can could i my me we our you your it its this that with from by as not
    please
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

logger = logging.getLogger(__name__)
_jieba_lock = threading.Lock()
_jieba_module = None


def _jieba():
    """jieba, its dictionary loaded once per process (~0.6 s, on the first search or
    save rather than at start-up)."""
    global _jieba_module
    if _jieba_module is None:
        with _jieba_lock:
            if _jieba_module is None:
                with warnings.catch_warnings():
                    # jieba's regular expressions are written in plain strings; Python
                    # warns while it compiles them the first time.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    warnings.simplefilter("ignore", SyntaxWarning)
                    import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_module = jieba
    return _jieba_module


_analyse_lock = threading.Lock()
_analyse_module = None


def _analyse():
    """jieba's keyword extraction, its IDF table loaded once per process."""
    global _analyse_module
    if _analyse_module is None:
        _jieba()
        with _analyse_lock:
            if _analyse_module is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    warnings.simplefilter("ignore", SyntaxWarning)
                    import jieba.analyse

                _analyse_module = jieba.analyse
    return _analyse_module


# --- tokens --------------------------------------------------------------------------------------


def _tokens(folded: str, *, characters: bool) -> list[str]:
    """The tokens of folded text: jieba's words, the dictionary words inside long Chinese
    words, and (``characters``) each Chinese word's single characters."""
    jieba = _jieba()
    freq = jieba.dt.FREQ
    out: list[str] = []
    for word in jieba.cut(folded, HMM=False):
        for part in _RUNS.findall(word):
            if len(part) > 1 and _ALL_CJK.match(part):
                for n in (2, 3):
                    if len(part) > n:
                        for i in range(len(part) - n + 1):
                            gram = part[i : i + n]
                            if freq.get(gram):
                                out.append(gram)
                out.append(part[:MAX_TOKEN_CHARS])
                if characters:
                    out.extend(part)
            else:
                out.append(part[:MAX_TOKEN_CHARS])
    return out


def _title_pinyin(folded_title: str) -> list[str]:
    out = []
    for word in _jieba().cut(folded_title, HMM=False):
        if len(word) > 1 and _ALL_CJK.match(word):
            full, _initials = normalize.pinyin(word)
            if full:
                out.append(full[:MAX_TOKEN_CHARS])
    return out


def index_columns(title: str, body: str) -> dict[str, str]:
    """``search_title`` and ``search_text`` of an article with this title and body; every
    code path that writes an article's title or body saves these with it."""
    folded_title = normalize.fold(title)
    title_tokens = _tokens(folded_title, characters=True) + _title_pinyin(folded_title)
    body_tokens = _tokens(normalize.fold(body), characters=True)
    return {
        "search_title": " ".join(title_tokens),
        "search_text": " ".join(title_tokens + body_tokens),
    }


def apply_index_columns(article: Article) -> None:
    for name, value in index_columns(article.title, article.body).items():
        setattr(article, name, value)


def query_terms(query: str) -> list[str]:
    """The distinct terms of a query, stop words dropped unless nothing else is left."""
    folded = normalize.fold((query or "")[:MAX_QUERY_CHARS])
    terms = list(dict.fromkeys(_tokens(folded, characters=False)))
    meaningful = [t for t in terms if t not in STOP_WORDS]
    return (meaningful or terms)[:MAX_TERMS]


def suggest_terms(text: str) -> dict[str, float]:
    """Keywords of free text (a case's description, a customer's question) with their
    TF-IDF weights, folded and cut like the index."""
    folded = normalize.fold((text or "")[:SUGGEST_MAX_CHARS])
    if not folded:
        return {}
    weights: dict[str, float] = {}
    for keyword, weight in _analyse().extract_tags(folded, topK=SUGGEST_KEYWORDS, withWeight=True):
        for term in _tokens(keyword, characters=False):
            if term not in STOP_WORDS and (len(term) > 1 or _ALL_CJK.match(term)):
                weights[term] = max(weights.get(term, 0.0), float(weight))
    return weights


# --- index look-ups --------------------------------------------------------------------------------


def _fts_query(term: str, column: str | None) -> str:
    phrase = '"' + term.replace('"', '""') + '"'
    return f"{column} : {phrase}" if column else phrase


def _match(qs: QuerySet, term: str, *, title_only: bool) -> Q:
    """The articles with ``term`` among their tokens (of the title only, or of both)."""
    column = "search_title" if title_only else "search_text"
    if connections[qs.db].vendor == "sqlite":
        return Q(
            pk__in=RawSQL(
                f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",
                (_fts_query(term, "search_title" if title_only else None),),
            )
        )
    # A sub-query of its own (OFFSET 0: not merged into the outer one), so the planner
    # reads the matches from the GIN index instead of parsing every row's text while it
    # walks the outer query's order.
    lexeme = "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
    return Q(
        pk__in=RawSQL(
            f"SELECT id FROM {Article._meta.db_table} "
            f"WHERE to_tsvector('simple'::regconfig, {column}) @@ %s::tsquery OFFSET 0",
            (lexeme,),
        )
    )


def searchable(
    *, workspace, public_only: bool, language: str | None = None, category_id=None
) -> QuerySet:
    """The articles a search may return: published, of the workspace; only public ones
    for customers (``public_only``); of one language if given."""
    qs = Article.objects.in_workspace(workspace).filter(status=ArticleStatus.PUBLISHED)
    if public_only:
        qs = qs.filter(visibility=ArticleVisibility.PUBLIC)
    if language:
        qs = qs.filter(language=language)
    if category_id:
        qs = qs.filter(category_id=category_id)
    return qs


# --- ranking ---------------------------------------------------------------------------------------


@dataclass
class ArticleHit:
    """One result: the article (with its category), its score, and its title and a passage
    of its text with the query's words marked (``<mark>``; HTML-escaped otherwise)."""

    article: Article
    score: float
    title_html: SafeString
    snippet_html: SafeString
    snippet: str
    terms: list[str]


def _idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def _total(base: QuerySet, key: str) -> int:
    """How many articles a search looks through (for the terms' idf): counted once a
    minute per workspace and filter, since a figure a minute old weighs terms as well."""
    total = cache.get(key)
    if total is None:
        total = base.order_by().count()
        cache.set(key, total, TOTAL_SECONDS)
    return total


def _rank(
    base: QuerySet, weights: dict[str, float], limit: int, total_key: str
) -> list[tuple[int, float]]:
    """(article id, score) of the best ``limit`` articles for weighted terms."""
    if not weights or limit < 1:
        return []
    matches: dict[str, set[int]] = {}
    frequency: dict[str, int] = {}
    for term in weights:
        found = base.filter(_match(base, term, title_only=False))
        ids = list(found.order_by("-pk").values_list("pk", flat=True)[:TERM_CAP])
        if ids:
            matches[term] = set(ids)
            frequency[term] = len(ids)
    if not matches:
        return []
    total = max(_total(base, total_key), max(frequency.values()))
    # A term found TERM_CAP times or more is common: counting its every match exactly
    # costs more than the search (it is in a good share of the articles, its weight is low
    # whatever the figure), so it counts as in half of them.
    idf = {
        t: _idf(total, df if df < TERM_CAP else max(df, total // 2)) for t, df in frequency.items()
    }
    # First cut, when there are too many to rank fully: the summed weight of the terms
    # matched, title matches counting more (so a common word's title matches stay in).
    first: dict[int, float] = {}
    for term, ids in matches.items():
        value = idf[term] * weights[term]
        for pk in ids:
            first[pk] = first.get(pk, 0.0) + value
    if len(first) > MAX_CANDIDATES:
        for term in matches:
            value = idf[term] * weights[term]
            titled = base.filter(_match(base, term, title_only=True))
            for pk in titled.order_by("-pk").values_list("pk", flat=True)[:TERM_CAP]:
                first[pk] = first.get(pk, 0.0) + value
    chosen = sorted(first, key=lambda pk: (-first[pk], -pk))[:MAX_CANDIDATES]
    rows = list(
        base.filter(pk__in=chosen).order_by().values_list("pk", "search_title", "search_text")
    )
    if not rows:
        return []
    lengths = {pk: text.count(" ") + 1 if text else 0 for pk, _t, text in rows}
    average = sum(lengths.values()) / len(lengths) or 1.0
    weight_sum = sum(weights.values()) or 1.0
    scored = []
    for pk, title, text in rows:
        all_tokens, title_tokens = text.split(), title.split()
        norm = K1 * (1 - B + B * lengths[pk] / average)
        score = matched = 0.0
        for term in matches:
            tf_all = all_tokens.count(term)
            if not tf_all:
                continue
            tf_title = title_tokens.count(term)
            tf = (tf_all - tf_title) + TITLE_WEIGHT * tf_title
            score += weights[term] * idf[term] * tf * (K1 + 1) / (tf + norm)
            matched += weights[term]
        if score > 0:
            scored.append((pk, score * matched / weight_sum))
    scored.sort(key=lambda item: (-item[1], -item[0]))
    return scored[:limit]


def _hits(base: QuerySet, ranked: list[tuple[int, float]], terms: list[str]) -> list[ArticleHit]:
    if not ranked:
        return []
    articles = base.select_related("category").in_bulk([pk for pk, _s in ranked])
    hits = []
    for pk, score in ranked:
        article = articles.get(pk)
        if article is not None:
            snippet_html, snippet = highlight_snippet(article.body, terms)
            hits.append(
                ArticleHit(
                    article=article,
                    score=round(score, 4),
                    title_html=highlight(article.title, terms),
                    snippet_html=snippet_html,
                    snippet=snippet,
                    terms=terms,
                )
            )
    return hits


def _total_key(workspace, public_only: bool, language: str | None) -> str:
    workspace_id = getattr(workspace, "pk", workspace)
    return f"kb:searchable:{workspace_id}:{int(bool(public_only))}:{language or ''}"


def forget_totals(workspace) -> None:
    """Count the searchable articles afresh: the services call this when an article is
    published, taken back, archived, or changes its visibility or language."""
    cache.delete_many(
        [
            _total_key(workspace, public_only, language)
            for public_only in (False, True)
            for language in (None, "zh-hans", "en")
        ]
    )


def article_search(
    *, workspace, query: str, public_only: bool, language: str | None = None, limit: int = 10
) -> list[ArticleHit]:
    """The published articles that best answer ``query``, best first (at most ``limit``).
    Customers (``public_only``) see only public articles; ``language`` (zh-hans, en)
    narrows to one language. An empty query finds nothing."""
    terms = query_terms(query)
    if not terms:
        return []
    base = searchable(workspace=workspace, public_only=public_only, language=language)
    weights = dict.fromkeys(terms, 1.0)
    ranked = _rank(base, weights, limit, _total_key(workspace, public_only, language))
    return _hits(base, ranked, terms)


def article_suggest(
    *, workspace, text: str, public_only: bool, language: str | None = None, limit: int = 5
) -> list[ArticleHit]:
    """Articles that may answer a problem described in free text (a case's subject and
    description, a customer's question in the portal): its keywords by TF-IDF, searched
    with their weights."""
    weights = suggest_terms(text)
    if not weights:
        return []
    base = searchable(workspace=workspace, public_only=public_only, language=language)
    ranked = _rank(base, weights, limit, _total_key(workspace, public_only, language))
    return _hits(base, ranked, list(weights))


# --- highlighting ----------------------------------------------------------------------------------


def _aligned_fold(text: str) -> str:
    """``text`` folded for matching, character for character (the same length), so a match
    in it is a match at the same place in ``text``."""
    whole = unicodedata.normalize("NFKC", text).lower()
    if len(whole) != len(text):  # something widened or merged: fold one by one
        chars = []
        for ch in text:
            folded = unicodedata.normalize("NFKC", ch).lower()
            chars.append(folded if len(folded) == 1 else ch.lower()[:1] or ch)
        whole = "".join(chars)
    if normalize.has_cjk(whole):
        simplified = normalize.simplified(whole)
        if len(simplified) == len(whole):
            return simplified
        return "".join(normalize.simplified(ch)[:1] or ch for ch in whole)
    return whole


def _spans(folded: str, terms: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) of the terms in folded text, longest terms first; a
    latin or digit term only at the start of a word."""
    taken: list[tuple[int, int]] = []
    for term in sorted(set(terms), key=len, reverse=True):
        if not term:
            continue
        if _ALL_CJK.match(term):
            pattern = re.compile(re.escape(term))
        else:
            pattern = re.compile(r"(?<![^\W_])" + re.escape(term))
        for found in pattern.finditer(folded):
            start, end = found.span()
            if all(end <= s or start >= e for s, e in taken):
                taken.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(taken):
        if merged and merged[-1][1] == start:  # 忘记|密码: one mark
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _marked(text: str, spans: list[tuple[int, int]], offset: int = 0) -> str:
    parts, at = [], 0
    for start, end in spans:
        start, end = start - offset, end - offset
        if start < at or end > len(text) or start < 0:
            continue
        parts.append(html.escape(text[at:start]))
        parts.append("<mark>" + html.escape(text[start:end]) + "</mark>")
        at = end
    parts.append(html.escape(text[at:]))
    return "".join(parts)


def highlight(text: str, terms: list[str]) -> SafeString:
    """``text`` HTML-escaped, the terms' occurrences in ``<mark>``."""
    return mark_safe(_marked(text, _spans(_aligned_fold(text), terms)))


def plain_text(body: str) -> str:
    """An article's Markdown as one line of text: markers, link targets and spacing gone."""
    text = _BLOCK_MARKS.sub(" ", body or "")
    text = _INLINE_MARKS.sub("", _LINKS.sub(r"\1", text))
    return _SPACES.sub(" ", text).strip()


def highlight_snippet(body: str, terms: list[str], width: int = SNIPPET_CHARS):
    """(HTML, plain text) of a passage of ``body`` around the first occurrence of the
    query's most specific term, the terms marked; the start of the text if none occurs."""
    text = plain_text(body)
    folded = _aligned_fold(text)
    spans = _spans(folded, terms)
    start = 0
    if spans:
        best = max(spans, key=lambda s: (s[1] - s[0], -s[0]))
        start = max(0, best[0] - width // 4)
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    piece = text[start:end]
    inside = [(s, e) for s, e in spans if s >= start and e <= end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    marked = _marked(piece, inside, offset=start)
    return mark_safe(f"{prefix}{marked}{suffix}"), f"{prefix}{piece}{suffix}"
