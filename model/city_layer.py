"""A city read from a city layer file (written by ``lifecircle import``) instead of generated.

The layer is one compressed ``.npz`` file (no pickles) holding the grid and what stands on
it, already rasterised at the scenario's cell size:

* ``cell_type`` -- ``(width, height)`` int8: ROAD / RESIDENTIAL / STOREFRONT / WALL, as in
  ``model.city``;
* ``walkable`` -- ``(width, height)`` bool: the streets a walk passes along (``model.city``'s
  walking rule). A street cell may hold homes or storefronts (its type then says so); every
  home and storefront is on a street cell or next to one;
* ``community`` -- ``(width, height)`` int32 community id or -1; ``community_kind`` -- per
  community OLD / NEW;
* ``home_xy``, ``home_capacity`` -- home cells and the residents each holds at full
  occupancy (from floor area or a population column, so residents per cell are data);
* ``storefront_xy`` -- storefront sites; a cell may hold several (one per unit), and a
  mixed-use cell can be both a home cell and a storefront;
* ``shop_site``, ``shop_category``, ``shop_secondary``, ``shop_chain`` -- the shops open at
  day 0: their site (index into ``storefront_xy``), category name, optional second category
  and whether they belong to a chain;
* ``meta`` -- a JSON text: format and version, cell size, box, projection, sources and the
  import summary.

``LayerCity`` exposes the same attributes as ``model.city.City``; ``open_layer_shops`` opens
the listed shops at day 0 in place of the random initial shops. ``write_layer`` is the one
writer (used by ``mapdata``), ``read_layer`` the one reader; both check the same rules.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .city import ROAD, WALL, City
from .errors import ScenarioError
from .params import Params

LAYER_FORMAT = "lifecircle-city-layer"
LAYER_VERSION = 1
LAYER_SUFFIX = ".city.npz"
_ARRAYS = {
    "cell_type": (np.int8, 2), "walkable": (bool, 2), "community": (np.int32, 2),
    "community_kind": (np.int8, 1),
    "home_xy": (np.int32, 2), "home_capacity": (np.int64, 1), "storefront_xy": (np.int32, 2),
    "shop_site": (np.int32, 1), "shop_category": (str, 1), "shop_secondary": (str, 1),
    "shop_chain": (bool, 1),
}


def _fail(path: object, key: str, problem: str) -> ScenarioError:
    return ScenarioError(str(path), key, problem)


def check_layer(arrays: dict[str, np.ndarray], meta: dict[str, Any], where: object) -> None:
    """Check a layer's arrays and metadata against the format; raise ScenarioError if broken.

    Args:
        arrays: the arrays by name (see the module docstring).
        meta: the metadata mapping.
        where: the file (for messages).
    """
    if meta.get("format") != LAYER_FORMAT:
        raise _fail(where, "meta.format", f"not a lifecircle city layer (expected {LAYER_FORMAT!r})")
    if meta.get("version") != LAYER_VERSION:
        raise _fail(where, "meta.version",
                    f"{meta.get('version')!r} is not supported; this lifecircle reads version "
                    f"{LAYER_VERSION} (re-run lifecircle import)")
    cell = meta.get("cell_size_m")
    if not isinstance(cell, int | float) or not cell > 0:
        raise _fail(where, "meta.cell_size_m", f"{cell!r} is not a positive number")
    for name, (kind, ndim) in _ARRAYS.items():
        if name not in arrays:
            raise _fail(where, name, "missing array")
        a = arrays[name]
        ok_kind = a.dtype.kind == "U" if kind is str else (
            a.dtype == np.bool_ if kind is bool else a.dtype.kind in "iu")
        if not ok_kind or a.ndim != ndim:
            raise _fail(where, name, f"has dtype {a.dtype} and {a.ndim} dimensions; expected "
                        f"{getattr(kind, '__name__', kind)} with {ndim}")
    ct, com, kind_ = arrays["cell_type"], arrays["community"], arrays["community_kind"]
    w, h = ct.shape
    if w < 1 or h < 1 or com.shape != ct.shape:
        raise _fail(where, "community", f"shape {com.shape} differs from cell_type {ct.shape}")
    if ct.min() < ROAD or ct.max() > WALL:
        raise _fail(where, "cell_type", "values must be 0 (road) .. 3 (wall)")
    if np.any(com < -1) or np.any(com >= len(kind_)):
        raise _fail(where, "community", f"ids must be -1 .. {len(kind_) - 1}")
    if np.any((kind_ != 0) & (kind_ != 1)):
        raise _fail(where, "community_kind", "values must be 0 (old) or 1 (new)")
    streets = arrays["walkable"]
    if streets.shape != ct.shape or not streets.any():
        raise _fail(where, "walkable", f"needs a {w} x {h} street mask with a street")
    if np.any(streets & (ct == WALL)):
        raise _fail(where, "walkable", "a street cell is a wall")
    near = streets.copy()  # on a street or next to one
    near[1:, :] |= streets[:-1, :]
    near[:-1, :] |= streets[1:, :]
    near[:, 1:] |= streets[:, :-1]
    near[:, :-1] |= streets[:, 1:]
    walkable = (ct != WALL) & near
    for name in ("home_xy", "storefront_xy"):
        xy = arrays[name]
        if xy.shape[1:] != (2,):
            raise _fail(where, name, f"shape {xy.shape} is not (n, 2)")
        if len(xy) and (xy.min() < 0 or np.any(xy[:, 0] >= w) or np.any(xy[:, 1] >= h)):
            raise _fail(where, name, f"a cell lies outside the {w} x {h} grid")
        if len(xy) and not walkable[xy[:, 0], xy[:, 1]].all():
            raise _fail(where, name, "a cell is a wall or not on or next to a street")
        if len(xy) and np.any(com[xy[:, 0], xy[:, 1]] < 0):
            raise _fail(where, name, "a cell belongs to no community")
    homes = arrays["home_xy"]
    if len(homes) == 0:
        raise _fail(where, "home_xy", "the layer has no home cells")
    if len(np.unique(homes, axis=0)) != len(homes):
        raise _fail(where, "home_xy", "a home cell is listed twice")
    cap = arrays["home_capacity"]
    if cap.shape != (len(homes),) or np.any(cap < 0):
        raise _fail(where, "home_capacity", "needs one count >= 0 per home cell")
    site = arrays["shop_site"]
    n = len(site)
    for name in ("shop_category", "shop_secondary", "shop_chain"):
        if len(arrays[name]) != n:
            raise _fail(where, name, f"has {len(arrays[name])} rows; shop_site has {n}")
    if n and (site.min() < 0 or site.max() >= len(arrays["storefront_xy"])):
        raise _fail(where, "shop_site", "indexes must point into storefront_xy")
    if len(np.unique(site)) != n:
        raise _fail(where, "shop_site", "two shops stand at one storefront site")


def write_layer(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Check and write a city layer atomically (a temporary file renamed into place).

    Args:
        path: the ``.city.npz`` file to write.
        arrays: the arrays by name (see the module docstring).
        meta: metadata; ``format``, ``version`` are set here.
    """
    path = Path(path)
    meta = {**meta, "format": LAYER_FORMAT, "version": LAYER_VERSION}
    clean = {name: np.asarray(arrays[name], dtype=kind) for name, (kind, _) in _ARRAYS.items()}
    check_layer(clean, meta, path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, meta=np.array(json.dumps(meta, sort_keys=True)), **clean)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_layer(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read and check a city layer; return ``(arrays, meta)``.

    Raises:
        ScenarioError: the file is missing, unreadable or breaks the format (naming the key).
    """
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "city_layer", "file not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise _fail(path, "city_layer", f"not a readable city layer (.npz): {err}") from None
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except KeyError:
        raise _fail(path, "meta", "missing array") from None
    except (ValueError, TypeError) as err:
        raise _fail(path, "meta", f"not JSON: {err}") from None
    if not isinstance(meta, dict):
        raise _fail(path, "meta", "not a JSON object")
    check_layer(arrays, meta, path)
    return arrays, meta


_DIGESTS: dict[tuple[str, int, int], str] = {}


def layer_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a layer file's bytes (cached on path, size and modification time)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return "missing"
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = hashlib.sha256(p.read_bytes()).hexdigest()
    return _DIGESTS[key]


def check_params_layer(where: str, params: Params) -> None:
    """Check a scenario's ``city_layer`` (readable, same cell size); raise ScenarioError."""
    if not params.city_layer:
        return
    try:
        _, meta = read_layer(params.city_layer)
    except ScenarioError as err:
        raise ScenarioError(where, "city_layer", f"{params.city_layer}: {err.key}: {err.problem}") \
            from None
    if abs(float(meta["cell_size_m"]) - params.cell_size_m) > 1e-9:
        raise ScenarioError(where, "cell_size_m",
                            f"{params.cell_size_m} differs from the city layer's cell size "
                            f"{meta['cell_size_m']} m ({params.city_layer}); re-import with "
                            "--cell-size to change it")


class LayerCity(City):
    """A City read from a layer file: same attributes, plus the shops open at day 0.

    Attributes (beyond ``City``'s):
        source: the layer file.
        meta: its metadata (box, projection, sources, import summary).
        shop_site: storefront index per listed shop; shop_category, shop_secondary: category
            names ("" for none); shop_chain: bool per shop.
    """

    def __init__(self, params: Params, path: str | os.PathLike):
        self.source = Path(path)
        arrays, meta = read_layer(self.source)
        if abs(float(meta["cell_size_m"]) - params.cell_size_m) > 1e-9:
            raise ScenarioError(str(self.source), "cell_size_m",
                                f"the layer was rasterised at {meta['cell_size_m']} m; the "
                                f"scenario asks for {params.cell_size_m} m")
        self.meta = meta
        self.cell_size_m = float(params.cell_size_m)
        self.cell_type = arrays["cell_type"].astype(np.int8)
        self.width, self.height = self.cell_type.shape
        self.community = arrays["community"].astype(np.int32)
        self.community_kind = arrays["community_kind"].astype(np.int8)
        self.community_type = np.where(self.community >= 0,
                                       self.community_kind[np.maximum(self.community, 0)],
                                       -1).astype(np.int8)
        self.walkable = arrays["walkable"].astype(bool)
        self.home_xy = arrays["home_xy"].astype(np.int32)
        self.home_capacity = arrays["home_capacity"].astype(np.int64)
        self.home_community = self.community[self.home_xy[:, 0], self.home_xy[:, 1]]
        self.home_index = np.full((self.width, self.height), -1, dtype=np.int64)
        self.home_index[self.home_xy[:, 0], self.home_xy[:, 1]] = np.arange(len(self.home_xy))
        self.storefront_xy = arrays["storefront_xy"].astype(np.int32).reshape(-1, 2)
        self.storefront_community = self.community[self.storefront_xy[:, 0],
                                                   self.storefront_xy[:, 1]]
        self.shop_site = arrays["shop_site"].astype(np.int64)
        self.shop_category = [str(c) for c in arrays["shop_category"]]
        self.shop_secondary = [str(c) for c in arrays["shop_secondary"]]
        self.shop_chain = arrays["shop_chain"].astype(bool)


def make_city(params: Params, rng: np.random.Generator) -> City:
    """The scenario's city: read from ``params.city_layer`` if set, else generated."""
    if params.city_layer:
        return LayerCity(params, params.city_layer)
    return City(params, rng)


def open_layer_shops(model, rng: np.random.Generator) -> None:
    """Open the shops a LayerCity lists, at day 0, as established incumbents.

    Price and quality are drawn as for any shop (``entry.shop_terms``), cash as for the
    generated city's shops at day 0 (``entry.open_initial_shops``); a listed second category
    (a supermarket's fresh food) replaces the drawn one, with its staff share and margin.
    """
    from .entry import shop_margin, shop_terms

    city, cats, p = model.city, model.categories, model.params
    if len(city.shop_site) == 0:
        return
    unknown = sorted({c for c in city.shop_category + city.shop_secondary
                      if c and c not in cats.index})
    if unknown:
        raise ScenarioError(str(city.source), "shop_category",
                            f"unknown categories {unknown}; known: {cats.names}")
    category = np.array([cats.index[c] for c in city.shop_category], dtype=np.int16)
    listed = np.array([cats.index[c] if c else -1 for c in city.shop_secondary], dtype=np.int64)
    terms = shop_terms(model, rng, category, city.shop_chain, city.shop_site)
    has = listed >= 0
    secondary = np.where(has, listed, terms["secondary"])
    staff = cats.staff[category] + np.where(
        secondary >= 0, p.secondary_staff_share * cats.staff[np.maximum(secondary, 0)], 0.0)
    terms["secondary"] = secondary
    terms["secondary_capacity"] = np.where(secondary >= 0, cats.capacity[np.maximum(secondary, 0)],
                                           0.0)
    terms["secondary_margin"] = np.where(secondary >= 0, shop_margin(
        model, np.maximum(secondary, 0), city.shop_chain, terms["price"]), 0.0)
    terms["staff_day"] = staff
    terms["cash"] = np.where(city.shop_chain, p.chain_cash_days, p.incumbent_cash_days) * \
        (terms["rent_day"] + staff)
    model.supply.open_shops(0, city.shop_site, category, city.shop_chain, entrant=False, **terms)


__all__ = ["LAYER_FORMAT", "LAYER_SUFFIX", "LAYER_VERSION", "LayerCity", "check_layer",
           "check_params_layer", "layer_digest", "make_city", "open_layer_shops",
           "read_layer", "write_layer"]
