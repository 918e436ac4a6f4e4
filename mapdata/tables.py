"""The mapping tables as data: POI types -> categories, and which features are streets or homes.

``poi_categories.toml`` maps OSM tags, Gaode/Amap type codes and Chinese name keywords to the
categories of ``scenarios/categories.toml``; ``features.toml`` says which ways are walkable,
which buildings house residents or shops, which land use is residential, and where years,
storeys and populations are read. Both are checked when loaded: an unknown category, key or
malformed rule is a MapDataError naming the file and the rule.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.errors import MapDataError, suggest
from model.scenario import category_names

HERE = Path(__file__).resolve().parent
POI_TABLE = HERE / "poi_categories.toml"
FEATURE_TABLE = HERE / "features.toml"
NONE = "none"
_YEAR = re.compile(r"(1[0-9]{3}|20[0-9]{2}|2100)")
_NUMBER = re.compile(r"[-+]?[0-9]*\.?[0-9]+")


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise MapDataError(path, "(file)", f"cannot be read as TOML: {err}") from None


def _strings(path: Path, key: str, value: Any) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise MapDataError(path, key, f"{value!r} must be a string or a non-empty list of strings")
    return tuple(values)


@dataclass(frozen=True)
class Match:
    """How one POI was classified.

    Attributes:
        category: a lifecircle category, ``"none"`` (known, not a format) or ``""`` (no rule).
        secondary: a second category served, or ``""``.
        chain: the rule names a chain brand.
        label: the POI's type as read (``shop=convenience``, ``amap:060200``), for summaries.
        rule: which kind of rule matched (``name``, ``osm``, ``amap``, ``column``) or ``""``.
    """

    category: str
    secondary: str = ""
    chain: bool = False
    label: str = ""
    rule: str = ""


@dataclass
class PoiRules:
    """The rules of ``poi_categories.toml`` (see its header)."""

    path: Path
    names: list[tuple[tuple[str, ...], Match]] = field(default_factory=list)
    osm: list[tuple[dict[str, tuple[str, ...]], Match]] = field(default_factory=list)
    amap: dict[str, Match] = field(default_factory=dict)
    chain_keys: tuple[str, ...] = ()
    chain_columns: tuple[str, ...] = ()
    branch_name: re.Pattern | None = None
    frontage_keys: tuple[str, ...] = ()
    frontage_amenity: tuple[str, ...] = ()
    frontage_classes: tuple[str, ...] = ()
    _index: dict[tuple[str, str], list[int]] | None = None

    def classify(self, tags: dict[str, str], name: str = "", codes: tuple[str, ...] = (),
                 category: str = "") -> Match:
        """Classify a POI from its tags, name, type codes or a given category."""
        label = poi_label(tags, codes)
        if category:
            return Match(category, label=label or f"category={category}", rule="column")
        for words, m in self.names:
            if name and any(w in name for w in words):
                return Match(m.category, m.secondary, m.chain, label, "name")
        for j in self._osm_candidates(tags):
            match, m = self.osm[j]
            if all(_has(tags.get(k), vals) for k, vals in match.items()):
                return Match(m.category, m.secondary, m.chain, label, "osm")
        best: tuple[int, Match] | None = None
        for code in codes:
            for n in range(len(code), 1, -1):
                m = self.amap.get(code[:n])
                if m is not None:
                    if best is None or n > best[0]:
                        best = (n, m)
                    break
        if best is not None:
            m = best[1]
            return Match(m.category, m.secondary, m.chain, label, "amap")
        return Match("", label=label)

    def _osm_candidates(self, tags: dict[str, str]) -> list[int]:
        """The OSM rules (in file order) whose first condition the tags meet."""
        if self._index is None:
            index: dict[tuple[str, str], list[int]] = {}
            for j, (match, _) in enumerate(self.osm):
                key, values = next(iter(match.items()))
                for v in values:
                    index.setdefault((key, v), []).append(j)
            self._index = index
        found: set[int] = set()
        for k, v in tags.items():
            hit = self._index.get((k, "*"))
            if hit:
                found.update(hit)
            for part in str(v).split(";"):
                hit = self._index.get((k, part.strip()))
                if hit:
                    found.update(hit)
        return sorted(found)

    def is_chain(self, match: Match, tags: dict[str, str], name: str) -> bool:
        """A chain outlet: a brand tag or column, a chain type code, or a branch-suffixed name."""
        if match.chain or any(str(tags.get(k) or "").strip() for k in self.chain_keys):
            return True
        return bool(name and self.branch_name is not None and self.branch_name.search(name))

    def is_frontage(self, tags: dict[str, str], codes: tuple[str, ...]) -> bool:
        """A street-level business (marks a storefront cell even if not a lifecircle format)."""
        if any(tags.get(k) for k in self.frontage_keys):
            return True
        if _has(tags.get("amenity"), self.frontage_amenity):
            return True
        return any(c[:2] in self.frontage_classes for c in codes)


def _has(value: Any, allowed: tuple[str, ...]) -> bool:
    if value is None or value == "":
        return False
    if "*" in allowed:
        return True
    return any(part.strip() in allowed for part in str(value).split(";"))


POI_KEYS = ("shop", "amenity", "craft", "leisure", "healthcare", "social_facility", "office",
            "tourism")
"""Tag keys that name a POI's type, in the order used for its label."""


def poi_label(tags: dict[str, str], codes: tuple[str, ...] = ()) -> str:
    """A POI's type as one label: ``shop=convenience``, ``amap:060200`` or ``""``."""
    for k in POI_KEYS:
        v = tags.get(k)
        if v:
            return f"{k}={v}"
    return f"amap:{codes[0]}" if codes else ""


def load_poi_rules(path: Path = POI_TABLE) -> PoiRules:
    """Load and check ``poi_categories.toml``."""
    data = _read(path)
    known = set(category_names())
    rules = PoiRules(path=path)
    allowed_top = {"name", "osm", "amap", "chains", "frontage"}
    for key in data:
        if key not in allowed_top:
            raise MapDataError(path, key, "unknown table" + suggest(key, allowed_top))

    def match_of(where: str, rule: dict[str, Any], extra: set[str]) -> Match:
        allowed = {"category", "secondary", "chain", "source"} | extra
        for k in rule:
            if k not in allowed:
                raise MapDataError(path, f"{where}.{k}", "unknown field" + suggest(k, allowed))
        if not str(rule.get("source", "")).strip():
            raise MapDataError(path, f"{where}.source", "every rule needs a source or 'assumption'")
        cat = rule.get("category")
        if cat != NONE and cat not in known:
            raise MapDataError(path, f"{where}.category", f"{cat!r} is not a category"
                               + suggest(str(cat), known) + f"; known: {sorted(known)} or 'none'")
        sec = rule.get("secondary", "")
        if sec and sec not in known:
            raise MapDataError(path, f"{where}.secondary", f"{sec!r} is not a category"
                               + suggest(str(sec), known))
        if not isinstance(rule.get("chain", False), bool):
            raise MapDataError(path, f"{where}.chain", "must be true or false")
        return Match(cat, sec, rule.get("chain", False))

    for i, rule in enumerate(data.get("name", [])):
        where = f"name[{i}]"
        words = _strings(path, f"{where}.contains", rule.get("contains"))
        rules.names.append((words, match_of(where, rule, {"contains"})))
    for i, rule in enumerate(data.get("osm", [])):
        where = f"osm[{i}]"
        match = rule.get("match")
        if not isinstance(match, dict) or not match:
            raise MapDataError(path, f"{where}.match", "must be a table of tag = value(s)")
        tags = {k: _strings(path, f"{where}.match.{k}", v) for k, v in match.items()}
        rules.osm.append((tags, match_of(where, rule, {"match"})))
    for i, rule in enumerate(data.get("amap", [])):
        where = f"amap[{i}]"
        code = rule.get("code")
        if not isinstance(code, str) or not re.fullmatch(r"[0-9]{2,6}", code):
            raise MapDataError(path, f"{where}.code", f"{code!r} must be 2 to 6 digits")
        if code in rules.amap:
            raise MapDataError(path, f"{where}.code", f"{code} is listed twice")
        rules.amap[code] = match_of(where, rule, {"code"})
    chains = data.get("chains", {})
    rules.chain_keys = _strings(path, "chains.osm_keys", chains.get("osm_keys", ["brand"]))
    rules.chain_columns = _strings(path, "chains.csv_columns", chains.get("csv_columns", ["brand"]))
    rules.chain_keys = tuple(dict.fromkeys(rules.chain_keys + rules.chain_columns))
    if chains.get("branch_name"):
        try:
            rules.branch_name = re.compile(chains["branch_name"])
        except re.error as err:
            raise MapDataError(path, "chains.branch_name", f"not a regular expression: {err}") \
                from None
    front = data.get("frontage", {})
    rules.frontage_keys = _strings(path, "frontage.osm_keys", front.get("osm_keys", ["shop"]))
    rules.frontage_amenity = _strings(path, "frontage.osm_amenity",
                                      front.get("osm_amenity", ["restaurant"]))
    rules.frontage_classes = _strings(path, "frontage.amap_classes",
                                      front.get("amap_classes", ["06"]))
    return rules


@dataclass
class FeatureRules:
    """The rules of ``features.toml``."""

    path: Path
    excluded_highway: tuple[str, ...]
    closed_access: tuple[str, ...]
    access_keys: tuple[str, ...]
    excluded: dict[str, tuple[str, ...]]
    residential: tuple[str, ...]
    residential_in_landuse: tuple[str, ...]
    commercial: tuple[str, ...]
    landuse_residential: tuple[str, ...]
    landuse_commercial: tuple[str, ...]
    year_tags: tuple[str, ...]
    levels_tags: tuple[str, ...]
    height_tags: tuple[str, ...]
    population_tags: tuple[str, ...]

    def walkable(self, tags: dict[str, str]) -> bool:
        """A ``highway`` way people may walk along (the OSMnx 'walk' rule)."""
        hw = tags.get("highway")
        if not hw or _has(hw, self.excluded_highway):
            return False
        if any(_has(tags.get(k), v) for k, v in self.excluded.items()):
            return False
        for key in self.access_keys:  # the most specific access tag decides
            value = tags.get(key)
            if value:
                return not _has(value, self.closed_access)
        return True

    def building_use(self, tags: dict[str, str]) -> str:
        """``residential``, ``maybe`` (residential inside residential land use), or ``other``."""
        b = str(tags.get("building") or "")
        if _has(b, self.residential):
            return "residential"
        if _has(b, self.residential_in_landuse):
            return "maybe"
        return "other"

    def commercial_ground_floor(self, tags: dict[str, str]) -> bool:
        """A building whose ground floor is shop frontage."""
        return _has(tags.get("building"), self.commercial) or bool(tags.get("shop"))

    def year(self, tags: dict[str, str]) -> int | None:
        """The construction year (first 4-digit year of a year tag), or None."""
        for key in self.year_tags:
            m = _YEAR.search(str(tags.get(key) or ""))
            if m:
                return int(m.group(1))
        return None

    def storeys(self, tags: dict[str, str], storey_height_m: float) -> float | None:
        """Storeys from a levels tag, else a height tag / storey height, else None."""
        for key in self.levels_tags:
            v = _number(tags.get(key))
            if v is not None and v > 0:
                return v
        for key in self.height_tags:
            v = _number(tags.get(key))
            if v is not None and v > 0:
                return max(1.0, round(v / storey_height_m))
        return None

    def population(self, tags: dict[str, Any]) -> float | None:
        """A population given on the feature (a column of the user's own layer), or None."""
        for key in self.population_tags:
            v = _number(tags.get(key))
            if v is not None and v >= 0:
                return v
        return None


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    m = _NUMBER.search(str(value))
    return float(m.group(0)) if m else None


def load_feature_rules(path: Path = FEATURE_TABLE) -> FeatureRules:
    """Load and check ``features.toml``."""
    data = _read(path)
    for table in ("streets", "buildings", "landuse", "years", "levels"):
        if not isinstance(data.get(table), dict):
            raise MapDataError(path, table, "missing table")
        if not str(data[table].get("source", "")).strip():
            raise MapDataError(path, f"{table}.source", "needs a source or 'assumption'")

    def s(table: str, key: str) -> tuple[str, ...]:
        return _strings(path, f"{table}.{key}", data[table].get(key))

    excluded = data["streets"].get("excluded", {})
    if not isinstance(excluded, dict):
        raise MapDataError(path, "streets.excluded", "must be a table of tag = values")
    return FeatureRules(
        path=path, excluded_highway=s("streets", "excluded_highway"),
        closed_access=s("streets", "closed_access"), access_keys=s("streets", "access_keys"),
        excluded={k: _strings(path, f"streets.excluded.{k}", v) for k, v in excluded.items()},
        residential=s("buildings", "residential"),
        residential_in_landuse=s("buildings", "residential_in_landuse"),
        commercial=s("buildings", "commercial"), landuse_residential=s("landuse", "residential"),
        landuse_commercial=s("landuse", "commercial"), year_tags=s("years", "tags"),
        levels_tags=s("levels", "levels_tags"), height_tags=s("levels", "height_tags"),
        population_tags=s("levels", "population_tags"))
