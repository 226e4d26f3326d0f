"""Precision at scale and the scan's compact memory: common names and busy addresses weigh
less, packed features round-trip, oversized address-only blocks are skipped."""

import datetime as dt

import pytest

from guanxi.customers.dedupe import blocking, matching, scan
from guanxi.customers.models import DuplicateCandidate

from .factories import ContactFactory

C = matching.CONTACT


def feats(**row):
    return matching.contact_features(row)


def test_common_name_same_city_does_not_pass_when_counted():
    a = feats(name="王伟", city="上海", province="上海", mobile="+8613800000001")
    b = feats(name="王伟", city="上海", province="上海", mobile="+8613900000002")
    assert matching.score_contacts(a, b, (400, 0))[0] < 0.5
    # ...but strong evidence still carries it.
    c = feats(name="王伟", city="上海", mobile="+8613800000001")
    assert matching.score_contacts(a, c, (400, 0))[0] >= 0.5
    d = feats(name="王伟", city="上海", birthday=dt.date(1980, 5, 6))
    e = feats(name="王伟", city="上海", birthday=dt.date(1980, 5, 6))
    assert matching.score_contacts(d, e, (400, 0))[0] >= 0.5


def test_busy_street_weighs_less():
    a = feats(name="李娜", street="人民路1号", postal_code="200000", city="上海")
    b = feats(name="李娜", street="人民路1号", postal_code="200000", city="上海")
    assert matching.score_contacts(a, b, (2, 2))[0] >= 0.5
    assert matching.score_contacts(a, b, (300, 500))[0] < 0.5


def test_frequencies_count_name_keys_across_scripts():
    fs = [feats(name="张三"), feats(name="張三"), feats(name="San Zhang"), feats(name="李四")]
    fr = blocking.frequencies(C, fs)
    assert list(fr.name_counts) == [3, 3, 3, 1]
    assert fr.of(0, 3) == (3, 0)


def test_feature_store_round_trip():
    store = scan.FeatureStore()
    f1, f2 = feats(name="欧阳修", mobile="+8613812345678"), feats(name="José Ñúñez")
    store.add("C1", f1)
    store.add("C2", f2)
    assert store.get(0) == ("C1", f1) and store.get(1) == ("C2", f2) and len(store) == 2


def test_weak_address_blocks_are_capped():
    blocks = blocking.Blocks()
    for i in range(blocking.MAX_WEAK_BLOCK + 1):
        blocks.add(i, ["ac上海1人民路"])
    assert len(blocks.pair_codes()) == 0 and blocks.skipped_blocks == 1
    small = blocking.Blocks()
    for i in range(5):
        small.add(i, ["ac上海1人民路"])
    assert len(small.pairs()) == 10


@pytest.mark.django_db
def test_scan_skips_many_namesakes_but_finds_the_phone_twin(workspace):
    for k in range(30):
        ContactFactory(
            workspace=workspace, name="王伟", city="上海", mobile=f"+86139{k:08d}", code=f"W{k}"
        )
    ContactFactory(workspace=workspace, name="王伟", city="上海", mobile="+8613900000003", code="T")
    stats = scan.scan_workspace(workspace, C)
    pairs = {tuple(sorted(p[:2])) for p in stats["pairs"]}
    assert pairs == {("T", "W3")}
    assert DuplicateCandidate.objects.in_workspace(workspace).count() == 1


def test_chinese_names_that_only_sound_alike_do_not_pass_on_the_address():
    a = feats(name="瞿林", street="田路R座", postal_code="762461", city="惠州")
    b = feats(name="瞿丽", street="田路R座", postal_code="762461", city="惠州")
    assert matching.score_contacts(a, b, (1, 500))[0] < 0.5
    c = feats(name="欧莹", street="大冶街p座", city="沈阳", mobile="+8618960486477")
    d = feats(name="Ming Ou", street="大冶街p座", city="沈阳", mobile="+8613915405879")
    assert matching.score_contacts(c, d, (1, 500))[0] < 0.5
    # the same person in pinyin still matches
    e = feats(name="Ying Ou", street="大冶街p座", city="沈阳", mobile="+8618960486477")
    assert matching.score_contacts(c, e, (1, 500))[0] >= 0.5
