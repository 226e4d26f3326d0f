# ruff: noqa: F811  (pytest fixtures imported from knowledge_support)
"""Chinese-aware search of the knowledge base, on both databases: one, two and three or
more Chinese characters, traditional finding simplified, English, mixed; title matches
first; drafts, archived and (for customers) internal articles never found; other
workspaces never; the index follows every change; suggestions from a description."""

from __future__ import annotations

import pytest

from guanxi.service.models import Article
from guanxi.service.services import kb_search
from guanxi.service.services import knowledge as services

from .knowledge_support import article, editor  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb(editor):
    rows = {
        "password": article(
            editor,
            "如何重置登录密码",
            "忘记密码时，在登录页点击“忘记密码”，输入注册手机号和短信验证码，即可设置新密码。",
            visibility="public",
        ),
        "printer": article(
            editor,
            "打印机卡纸的处理方法",
            "关闭电源，打开前盖，顺着出纸方向慢慢取出卡住的纸张，不要用力拉扯。",
            visibility="public",
        ),
        "lock": article(
            editor,
            "智能门锁电池更换",
            "门锁提示电量低时，请在一周内更换四节五号电池。",
            visibility="public",
        ),
        "policy": article(
            editor, "内部：员工密码策略", "员工账号密码每九十天更换一次，不得告诉客户。"
        ),
        "router": article(
            editor,
            "Router cannot connect to Wi-Fi",
            "Restart the router, then check the WAN cable. 重启路由器后检查网线。",
            language="en",
            visibility="public",
        ),
        "mention": article(
            editor,
            "账户安全须知",
            "不要把密码告诉他人。密码应定期修改。密码长度至少八位。",
            visibility="public",
        ),
        "draft": article(editor, "草稿：密码找回新流程", "尚未发布的密码流程。", publish=False),
    }
    archived = article(editor, "旧版：密码重置（已废弃）", "旧的密码流程。", visibility="public")
    services.article_archive(actor=editor, workspace=editor.workspace, article_id=archived.pk)
    rows["archived"] = archived
    return rows


def _titles(workspace, query, *, public_only=False, language=None) -> list[str]:
    hits = kb_search.article_search(
        workspace=workspace, query=query, public_only=public_only, language=language
    )
    return [h.article.title for h in hits]


def test_one_two_and_more_chinese_characters(editor, kb):
    ws = editor.workspace
    assert _titles(ws, "锁") == ["智能门锁电池更换"]  # one character inside a word (门锁)
    assert _titles(ws, "卡纸") == ["打印机卡纸的处理方法"]  # two
    assert _titles(ws, "电池")[0] == "智能门锁电池更换"
    assert _titles(ws, "打印机")[0] == "打印机卡纸的处理方法"  # three
    assert _titles(ws, "短信验证码")[0] == "如何重置登录密码"  # more


def test_traditional_finds_simplified(editor, kb):
    assert _titles(editor.workspace, "忘記密碼")[0] == "如何重置登录密码"
    assert _titles(editor.workspace, "印表機卡紙")[0] == "打印机卡纸的处理方法"


def test_english_mixed_and_full_width(editor, kb):
    ws = editor.workspace
    assert _titles(ws, "router") == ["Router cannot connect to Wi-Fi"]
    assert _titles(ws, "ＲＯＵＴＥＲ") == ["Router cannot connect to Wi-Fi"]  # full width
    assert _titles(ws, "wifi 路由器")[0] == "Router cannot connect to Wi-Fi"
    # The titles' pinyin (not the text's: 账户安全须知 mentions 密码 only in its text).
    assert set(_titles(ws, "mima")) == {"如何重置登录密码", "内部：员工密码策略"}
    assert _titles(ws, "router", language="zh-hans") == []


def test_title_match_ranks_first(editor, kb):
    titles = _titles(editor.workspace, "密码")
    # Three mentions in the text lose to the word in the title.
    assert titles.index("如何重置登录密码") < titles.index("账户安全须知")
    assert titles.index("内部：员工密码策略") < titles.index("账户安全须知")


def test_drafts_archived_and_internal_never_found(editor, kb):
    ws = editor.workspace
    everything = _titles(ws, "密码")
    assert "草稿：密码找回新流程" not in everything
    assert "旧版：密码重置（已废弃）" not in everything
    assert "内部：员工密码策略" in everything
    public = _titles(ws, "密码", public_only=True)
    assert "内部：员工密码策略" not in public and "如何重置登录密码" in public
    assert _titles(ws, "员工", public_only=True) == []


def test_other_workspaces_never_found(editor, kb, other_admin):
    article(other_admin, "别家的密码文章", "密码")
    assert "别家的密码文章" not in _titles(editor.workspace, "密码")
    assert _titles(other_admin.workspace, "密码") == ["别家的密码文章"]


def test_the_index_follows_changes(editor, kb):
    ws = editor.workspace
    row = kb["lock"]
    services.article_update(
        actor=editor, workspace=ws, article_id=row.pk, title="指纹锁无法识别", body="清洁指纹头。"
    )
    assert _titles(ws, "电池") == []
    assert _titles(ws, "指纹") == ["指纹锁无法识别"]
    services.article_unpublish(actor=editor, workspace=ws, article_id=row.pk)
    assert _titles(ws, "指纹") == []
    services.article_publish(actor=editor, workspace=ws, article_id=row.pk)
    Article.objects.in_workspace(ws).filter(pk=row.pk).delete()
    assert _titles(ws, "指纹") == []


def test_empty_stop_words_and_odd_queries(editor, kb):
    ws = editor.workspace
    assert _titles(ws, "") == [] and _titles(ws, "   ") == []
    assert _titles(ws, "？！。") == []
    assert _titles(ws, '"密码" OR * NEAR(') != []  # FTS syntax is just text here
    # "怎么" is a stop word: the rest decides.
    assert _titles(ws, "打印机卡纸怎么办")[0] == "打印机卡纸的处理方法"
    assert len(_titles(ws, "密码 " * 100)) > 0


def test_snippet_marks_the_words_and_escapes_the_rest(editor, kb):
    evil = article(
        editor, "<b>密码</b>", "说明 <script>x</script> 密码 在这里。" + "很长的文字。" * 50
    )
    hits = kb_search.article_search(workspace=editor.workspace, query="密碼", public_only=False)
    hit = next(h for h in hits if h.article.pk == evil.pk)
    assert str(hit.title_html) == "&lt;b&gt;<mark>密码</mark>&lt;/b&gt;"
    assert "&lt;script&gt;" in hit.snippet_html and "<mark>密码</mark>" in hit.snippet_html
    assert len(hit.snippet) <= kb_search.SNIPPET_CHARS + 2 and hit.snippet.endswith("…")
    other = next(h for h in hits if h.article.title == "如何重置登录密码")
    assert "<mark>忘记密码</mark>" not in other.snippet_html  # only the query's words
    assert "<mark>密码</mark>" in other.snippet_html


def test_suggest_from_a_description(editor, kb):
    ws = editor.workspace
    hits = kb_search.article_suggest(
        workspace=ws,
        text="客户来电：家里的打印机一直卡纸，打印出来的纸张皱巴巴的，换了纸也不行，很着急。",
        public_only=True,
    )
    assert hits[0].article.title == "打印机卡纸的处理方法"
    hits = kb_search.article_suggest(
        workspace=ws, text="我忘了登录密码，手机也收不到验证码", public_only=True
    )
    assert hits[0].article.title == "如何重置登录密码"
    assert kb_search.article_suggest(workspace=ws, text="", public_only=True) == []
    assert kb_search.article_suggest(workspace=ws, text="的了吗", public_only=True) == []


def test_index_columns():
    columns = kb_search.index_columns("打印機卡紙", "Wi-Fi 密碼\n192.168.1.1")
    title = columns["search_title"].split()
    assert {"打印机", "打印", "卡纸", "打", "印", "机", "dayinji"} <= set(title)
    text = columns["search_text"].split()
    assert {"wi", "fi", "密码", "密", "码", "192", "168"} <= set(text)
    assert text[: len(title)] == title
