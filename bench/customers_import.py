"""Import speed: N contacts from a CSV file through ``guanxi import`` (the importer every
way in uses), on SQLite and PostgreSQL, with peak memory; and PostgreSQL ``COPY`` of the
same file into a scratch table as the floor.

    .venv/bin/python bench/customers_import.py --rows 1000000 --db sqlite
    .venv/bin/python bench/customers_import.py --rows 1000000 --db postgres

The file (``var/bench-import-<N>-v2.csv``, kept between runs) holds generated Chinese and
Western people with unique mobiles and e-mails, no codes (the importer reserves them), the
field-name headers of ``guanxi export``. Each run starts from an empty database:
SQLite ``var/bench-import.sqlite3`` or PostgreSQL ``guanxi_bench_import`` (recreated).
The import runs as a child process under ``/usr/bin/time -v``: its wall time, rows/s and
maximum resident set size are printed.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PG_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench_import"
SQLITE_PATH = VAR / "bench-import.sqlite3"
HEADER = [
    "code", "name", "first_name", "last_name", "company", "title", "phone", "mobile", "email",
    "address", "city", "province", "postal_code", "country", "birthday", "gender", "id_number",
]  # fmt: skip

SURNAMES = [*"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤", "欧阳", "司马", "诸葛", "上官"]  # fmt: skip
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鑫斌宇浩凯健俊帆帅旭宁龙林欣佳怡子涵梓萱浩然宇轩")  # fmt: skip
WEST_FIRST = ["Anna", "Ben", "Chloe", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack"]
WEST_LAST = ["Smith", "Brown", "Wilson", "Taylor", "Clark", "Lewis", "Walker", "Young", "King"]
CITIES = [("上海", "上海", "200000"), ("北京", "北京", "100000"), ("广州", "广东", "510000"),
          ("深圳", "广东", "518000"), ("杭州", "浙江", "310000"), ("成都", "四川", "610000"),
          ("南京", "江苏", "210000"), ("武汉", "湖北", "430000"), ("西安", "陕西", "710000")]  # fmt: skip
COMPANIES = ["华为技术有限公司", "腾讯科技有限公司", "阿里巴巴集团", "小米科技有限责任公司",
             "京东集团", "美团", "百度在线网络技术有限公司", "Acme Co., Ltd.", "比亚迪股份有限公司"]  # fmt: skip
TITLES = ["经理", "总监", "工程师", "销售代表", "采购主管", "CEO", "财务", "行政助理", ""]
# Mobile ranges in use (libphonenumber): every generated mobile is a valid number.
MOBILE_PREFIXES = ["130", "135", "138", "139", "150", "158", "177", "186", "188", "199"]
STREETS = ["人民路", "中山路", "解放路", "建设路", "和平路", "南京路", "长安街", "科技园路"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    started = time.monotonic()
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for n in range(rows):
            if rnd.random() < 0.9:
                last = rnd.choice(SURNAMES)
                first = "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
                name, email_user = last + first, f"u{n}"
            else:
                first, last = rnd.choice(WEST_FIRST), rnd.choice(WEST_LAST)
                name, email_user = f"{first} {last}", f"{first.lower()}.{last.lower()}{n}"
            city, province, postal = rnd.choice(CITIES)
            year, month, day = rnd.randint(1950, 2004), rnd.randint(1, 12), rnd.randint(1, 28)
            writer.writerow(
                [
                    "",
                    name,
                    first,
                    last,
                    rnd.choice(COMPANIES),
                    rnd.choice(TITLES),
                    f"021-{50000000 + n}" if rnd.random() < 0.3 else "",
                    f"{rnd.choice(MOBILE_PREFIXES)}{n:08d}",
                    f"{email_user}@example.com",
                    f"{rnd.choice(STREETS)}{rnd.randint(1, 999)}号",
                    city,
                    province,
                    postal,
                    "CN",
                    f"{year}-{month:02d}-{day:02d}",
                    rnd.choice(("男", "女", "")),
                    "",
                ]
            )
    print(f"generated {rows:,} rows in {time.monotonic() - started:.1f} s: {path}")


def reset_database(db: str, env: dict) -> None:
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(SQLITE_PATH) + suffix).unlink(missing_ok=True)
    else:
        import psycopg

        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as conn:
            conn.execute("DROP DATABASE IF EXISTS guanxi_bench_import")
        subprocess.run(
            [sys.executable, "scripts/pg_test_db.py", "ensure"], cwd=ROOT, env=env, check=True
        )
    subprocess.run(
        [str(ROOT / ".venv/bin/guanxi"), "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    setup = (
        "from guanxi.platform.services import workspace_create;"
        "workspace_create(name='bench-import', admin_email='bench-import@example.com',"
        "admin_name='Bench', admin_password=None)"
    )
    subprocess.run(
        [str(ROOT / ".venv/bin/guanxi"), "shell", "-c", setup], cwd=ROOT, env=env, check=True
    )


def run_import(path: Path, env: dict) -> dict:
    cmd = [
        "/usr/bin/time",
        "-v",
        str(ROOT / ".venv/bin/guanxi"),
        "import",
        "contacts",
        str(path),
        "--workspace",
        "bench-import",
        "--quiet",
    ]
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode:
        print(done.stdout, done.stderr)
        raise SystemExit("the import failed")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", done.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", done.stderr).group(1))
    print(done.stdout.strip())
    return {"wall": wall, "rss_mb": rss / 1024, "cpu": user + system}


def copy_floor(path: Path) -> float:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/guanxi_bench_import") as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute("CREATE TABLE bench_copy (" + ", ".join(f"{h} text" for h in HEADER) + ")")
        started = time.monotonic()
        sql = "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)"
        with conn.cursor() as cur, open(path, "rb") as f, cur.copy(sql) as copy:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        elapsed = time.monotonic() - started
        conn.execute("DROP TABLE bench_copy")
        conn.commit()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    VAR.mkdir(exist_ok=True)
    # "-v2": mobiles of ranges in use (the first files had 140…/160… mobiles, not numbers).
    path = VAR / f"bench-import-{args.rows}-v2.csv"
    if not path.exists():
        generate(path, args.rows)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.dev")
    env["DATABASE_URL"] = PG_URL if args.db == "postgres" else f"sqlite:///{SQLITE_PATH}"
    reset_database(args.db, env)
    result = run_import(path, env)
    rate = args.rows / result["wall"]
    print(
        f"{args.db}: {args.rows:,} contacts in {result['wall']:.1f} s "
        f"({rate:,.0f} rows/s), max RSS {result['rss_mb']:.0f} MB, "
        f"CPU time of the import process {result['cpu']:.1f} s"
    )
    print(f"load average at the end (the machine is shared): {os.getloadavg()}")
    if args.db == "postgres":
        elapsed = copy_floor(path)
        print(
            f"postgres COPY of the same file into a text table: {elapsed:.1f} s "
            f"({args.rows / elapsed:,.0f} rows/s)"
        )


if __name__ == "__main__":
    main()
