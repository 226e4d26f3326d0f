"""The knowledge base search benchmark: ``article_search`` and ``article_suggest`` over
10,000 published articles.

    .venv/bin/python bench/kb_search.py --db sqlite             # var/bench-kb-10000.sqlite3
    .venv/bin/python bench/kb_search.py --db postgres           # guanxi_bench_kb
    .venv/bin/python bench/kb_search.py --articles 1000         # smaller, to try it

1. Seeds (once per size; a second run reuses it) the workspace "Bench KB" with
   ``--articles`` published articles (three in four public, one in five English), each a
   title and 6–14 sentences drawn from a service desk's vocabulary (products × symptoms ×
   steps), their search columns computed by ``kb_search.index_columns`` as the services
   do; then ANALYZE.
2. Times, warm and ``--requests`` times each: searches of one, two and three or more
   Chinese characters, traditional characters, English, a word in most articles, a query
   that finds nothing, customers' (public only) search, and a suggestion from a case's
   description; and the knowledge base's page searched.
3. Prints a Markdown table: p50 and p95 in milliseconds, the hits, and the SQL queries of
   one call.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_kb"
WORKSPACE = "Bench KB"

PRODUCTS = (
    "离心泵", "计量泵", "潜水泵", "蝶阀", "截止阀", "安全阀", "变频器", "控制柜", "触摸屏",
    "流量计", "压力变送器", "物位计", "打印机", "路由器", "智能门锁", "空调", "扫码枪",
    "收银机", "投影仪", "考勤机",
)  # fmt: skip
SYMPTOMS = (
    "无法开机", "噪音大", "振动大", "漏水", "读数跳动", "无法联网", "卡纸", "报警", "过热",
    "显示乱码", "无法登录", "密码错误", "电池没电", "反应慢", "自动重启", "连接失败",
)  # fmt: skip
SENTENCES = (
    "请先断开电源，等待十分钟后再操作。",
    "检查电源线和接地线是否连接可靠。",
    "在设置菜单中选择恢复出厂设置。",
    "如果故障代码反复出现，请提交维修工单。",
    "清理过滤网和散热风道，保持通风良好。",
    "确认进口阀门完全打开，管路中没有空气。",
    "使用原厂备件，更换后重新校准。",
    "登录管理后台，在账户安全页面修改密码。",
    "忘记密码时，可以用注册手机号获取验证码重置。",
    "固件版本过旧会导致兼容问题，请升级到最新版本。",
    "网络设置中检查地址是否与网关在同一网段。",
    "长时间不用时请取出电池，防止漏液腐蚀。",
    "运行中出现异响，应立即停机检查轴承。",
    "安装位置应远离热源和强电磁干扰。",
    "客户来电时先核实设备序列号和购买日期。",
    "保修期内的非人为损坏免费维修。",
    "上门服务需提前一天预约，工程师会电话确认时间。",
    "操作前请佩戴绝缘手套，注意人身安全。",
)
ENGLISH = (
    "Switch the unit off and wait ten minutes before opening the cover.",
    "Check that the power cable and the earth wire are firmly connected.",
    "Reset the password with a verification code sent to your phone.",
    "Update the firmware to the latest version to fix compatibility problems.",
    "If the fault code comes back, file a repair case in the portal.",
    "Clean the filter and keep the vents free.",
)
ENGLISH_TITLES = (
    "Device will not start",
    "Cannot connect to the network",
    "Resetting a forgotten password",
    "Error codes and what they mean",
    "Noise and vibration",
    "Replacing the battery",
)


def setup_django(db: str, articles: int) -> None:
    sqlite = ROOT / "var" / f"bench-kb-{articles}.sqlite3"
    harness.setup_django(PG_URL if db == "postgres" else f"sqlite:///{sqlite}")


def _article(rng: random.Random, i: int) -> dict:
    if i % 5 == 4:
        title = f"{rng.choice(ENGLISH_TITLES)} ({i})"
        body = " ".join(rng.choice(ENGLISH) for _ in range(rng.randint(6, 14)))
        return {"title": title, "body": body, "language": "en"}
    product, symptom = rng.choice(PRODUCTS), rng.choice(SYMPTOMS)
    title = f"{product}{symptom}的处理方法（{i}）"
    lines = [rng.choice(SENTENCES) for _ in range(rng.randint(6, 14))]
    lines.insert(rng.randint(0, len(lines)), f"{product}出现{symptom}时，按以下步骤处理。")
    return {"title": title, "body": "\n".join(lines), "language": "zh-hans"}


def seed(*, articles: int, log) -> object:
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.platform.management.commands.seed import bench_workspace
    from guanxi.service.models import Article
    from guanxi.service.services import kb_search

    admin = bench_workspace(WORKSPACE)
    ws = admin.workspace
    have = Article.objects.in_workspace(ws).count()
    if have >= articles:
        return admin
    started = time.perf_counter()
    rng = random.Random(20261203 + have)
    now = timezone.now()
    batch: list[Article] = []
    with transaction.atomic():
        for i in range(have, articles):
            values = _article(rng, i)
            row = Article(
                workspace=ws,
                author=admin,
                status="published",
                published_at=now,
                visibility="public" if i % 4 else "internal",
                **values,
            )
            kb_search.apply_index_columns(row)
            batch.append(row)
            if len(batch) == 1000:
                Article.objects.bulk_create(batch)
                batch = []
                log(f"  {i + 1:,} articles")
        Article.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"seeded {articles - have:,} articles in {time.perf_counter() - started:.1f} s")
    return admin


def _page_queries(call) -> int:
    from django.core.signals import request_started
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    request_started.disconnect(reset_queries)
    try:
        with CaptureQueriesContext(connection) as ctx:
            call()
    finally:
        request_started.connect(reset_queries)
    return len(ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30, help="timed calls per row (30)")
    args = parser.parse_args()
    setup_django(args.db, args.articles)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from guanxi.service.services import kb_search

    admin = seed(articles=args.articles, log=print)
    ws = admin.workspace
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)

    def search(query, public_only=False):
        return lambda: kb_search.article_search(workspace=ws, query=query, public_only=public_only)

    description = (
        "客户来电：店里的收银机今天早上开始无法联网，重启了也没用，扫码枪也连接失败，很着急。"
    )
    rows = []
    for name, call in (
        ("1 character (锁)", search("锁")),
        ("2 characters (卡纸)", search("卡纸")),
        ("3+ characters (变频器过热)", search("变频器过热")),
        ("traditional (忘記密碼)", search("忘記密碼")),
        ("English (password)", search("password")),
        ("a word in most articles (请)", search("请")),
        ("nothing found (量子计算机)", search("量子计算机")),
        ("customers: public only (路由器无法联网)", search("路由器无法联网", public_only=True)),
        (
            "suggest from a case description",
            lambda: kb_search.article_suggest(workspace=ws, text=description, public_only=False),
        ),
        (
            "knowledge base page searched (密码)",
            lambda: client.get(reverse("service:kb_home"), {"q": "密码"}),
        ),
    ):
        call()
        with CaptureQueriesContext(connection) as ctx:
            result = call()
        page = not isinstance(result, list)
        hits = result.status_code if page else len(result)
        # A request resets the query log when it starts: count a page's queries apart.
        queries = _page_queries(call) if page else len(ctx)
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        rows.append(
            (name, statistics.median(times), harness.percentile(times, 0.95), hits, queries)
        )
    print()
    print(
        f"Knowledge base search on {args.db} ({connection.vendor}): {args.articles:,} "
        f"published articles · {platform.python_version()}"
    )
    print()
    print("| search | p50 ms | p95 ms | hits (page: status) | queries |")
    print("|---|---:|---:|---:|---:|")
    for name, p50, p95, hits, queries in rows:
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {hits} | {queries} |")


if __name__ == "__main__":
    main()
