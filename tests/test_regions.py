"""The gazetteer: every division with its parent, places read from questions and issuers, 文号 prefixes."""

from __future__ import annotations

import pytest

from core.regions import NATIONAL, gazetteer


@pytest.fixture(scope="module")
def g():
    return gazetteer()


def test_divisions_have_levels_parents_and_display_names(g) -> None:
    tianhe = g.get("广州市天河区")
    assert tianhe is not None and tianhe.level == "district" and tianhe.short == "天河"
    assert [a.display for a in g.ancestors(tianhe)] == ["广州市", "广东省", NATIONAL]
    fengjie = g.get("重庆市奉节县")  # a county directly under a 直辖市
    assert fengjie is not None and [a.display for a in g.ancestors(fengjie)] == ["重庆市", NATIONAL]
    assert g.get("广州市").level == "city" and g.get("广东省").level == "province"
    assert len(g.by_code) > 3000


def test_a_region_applies_to_places_inside_and_above_it(g) -> None:
    tianhe, yuexiu, gz, gd = (g.get(x) for x in ("广州市天河区", "广州市越秀区", "广州市", "广东省"))
    nation = g.national()
    assert g.applicable(tianhe, [tianhe, yuexiu, gz, gd, nation]) == [tianhe, gz, gd, nation]
    # a city-wide question also sees its districts' documents
    assert g.applicable(gz, [tianhe, yuexiu, gz, g.get("深圳市")]) == [tianhe, yuexiu, gz]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我们在南京的工厂能享受吗", ["南京市"]),
        ("天津的企业呢", ["天津市"]),
        ("广州越秀的企业", ["广州市", "广州市越秀区"]),  # a city written before a district's short name
        ("北京朝阳的企业", ["北京市", "北京市朝阳区"]),
        ("南京鼓楼区的政策", ["南京市", "南京市鼓楼区"]),  # a name several cities share, settled by the city
        ("内蒙古的企业", ["内蒙古自治区"]),
        ("忠县的企业", ["重庆市忠县"]),
        ("城区的和平路上有一家合作社", []),  # district names that are ordinary words do not count
        ("我们想了解新兴产业的支持政策", []),
    ],
)
def test_places_named_in_a_question(g, text: str, expected: list[str]) -> None:
    assert [m.region.display for m in g.mentions(text)] == expected


def test_the_collection_decides_short_names_it_covers(g) -> None:
    wanzhou = g.get("重庆市万州区")
    assert [m.region.display for m in g.mentions("万州的软件企业", known=[wanzhou])] == ["重庆市万州区"]
    # a word the collection uses as an ordinary word is not read as a place
    assert g.mentions("有没有惠民政策", ordinary=lambda w: w == "惠民") == []


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        ("广州市天河区科技工业和信息化局", "广州市天河区"),
        ("中共广州市天河区委统战部", "广州市天河区"),
        ("天河区住房建设和园林局", "广州市天河区"),
        ("广东省人力资源和社会保障厅", "广东省"),
        ("国务院办公厅", NATIONAL),
        ("国家发展和改革委员会", NATIONAL),
        ("青海省海东市平安区人民政府", "海东市平安区"),
    ],
)
def test_region_of_an_issuer(g, issuer: str, expected: str) -> None:
    assert g.region_of_issuer(issuer).display == expected


def test_shared_district_name_is_settled_by_the_document_context(g) -> None:
    assert g.region_of_issuer("鼓楼区人民政府", context="福州市鼓楼区人民政府关于…").display == "福州市鼓楼区"
    assert g.region_of_issuer("鼓楼区人民政府", context="南京市…").display == "南京市鼓楼区"


def test_doc_number_prefixes(g) -> None:
    assert g.region_of_doc_number("国办发〔2024〕3号").display == NATIONAL
    assert g.region_of_doc_number("穗人社规字〔2019〕6号").display == "广州市"
    assert g.region_of_doc_number("苏政发〔2022〕1号").display == "江苏省"
    # 宁 is shared by 南京 and 宁夏: only the collection's own regions can decide
    assert g.region_of_doc_number("宁政发〔2020〕1号") is None
    assert g.region_of_doc_number("宁政发〔2020〕1号", known=[g.get("南京市鼓楼区")]).display == "南京市"
    assert g.region_of_doc_number("某某〔2020〕1号") is None
