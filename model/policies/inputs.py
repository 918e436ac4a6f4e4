"""Policy inputs that need more than one parameter to check: category lists and routes files.

Both are checked when the scenario is validated, before anything runs: a category list must
name known categories, at least one, none twice; a routes file is found relative to the
scenario file that names it (then the working folder), must be UTF-8 TOML of the form
``[[bus]] stops = [[x, y], ...]`` with non-negative integer cells, and its contents become
part of the scenario's configuration (and so of its hash). Whether each stop is a walkable
cell of the city is checked when the city is built (before the first day).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..errors import ScenarioError, suggest

MAX_ROUTES = 1_000
MAX_STOPS = 10_000


def category_list(where: str, key: str, text: str, known: tuple[str, ...]) -> list[str]:
    """The categories of a comma-separated list, checked against the category table.

    Raises:
        ScenarioError: The list is empty, names an unknown category or one twice.
    """
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise ScenarioError(where, key, f"{text!r} names no category; known: {list(known)}")
    for name in names:
        if known and name not in known:
            raise ScenarioError(where, key, f"unknown category {name!r}{suggest(name, known)}; "
                                f"known: {list(known)}")
    dup = [n for n in names if names.count(n) > 1]
    if dup:
        raise ScenarioError(where, key, f"category {dup[0]!r} is listed twice")
    return names


def resolve_file(where: str, key: str, text: str) -> Path:
    """Find a file named in a scenario: relative to the scenario file's folder, then the cwd.

    Raises:
        ScenarioError: No such file.
    """
    p = Path(text)
    tried = [p] if p.is_absolute() else [Path(where).parent / p, Path.cwd() / p]
    for cand in tried:
        if cand.is_file():
            return cand.resolve()
    raise ScenarioError(where, key, f"file not found: {text} (looked in "
                        f"{', '.join(str(c.parent) for c in tried)})")


def read_routes(where: str, key: str, path: Path) -> list[list[list[int]]]:
    """Parse a routes file: ``[[bus]] stops = [[x, y], ...]``; return each bus's stops.

    Raises:
        ScenarioError: naming the routes file and the key (``bus[2].stops[0]``) at fault.
    """
    f = str(path)
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f, "(syntax)", f"not a valid routes file (TOML): {err}") from None
    except UnicodeDecodeError as err:
        raise ScenarioError(f, "(encoding)", f"not UTF-8 text: {err}") from None
    except RecursionError:
        raise ScenarioError(f, "(syntax)", "nested too deeply to be a routes file") from None
    except OSError as err:
        raise ScenarioError(f, "(file)", f"cannot be read: {err.strerror or err}") from None
    extra = sorted(set(data) - {"bus"})
    if extra:
        raise ScenarioError(f, extra[0], f"unknown key{suggest(extra[0], ['bus'])}; a routes "
                            "file holds [[bus]] tables with stops = [[x, y], ...]")
    buses = data.get("bus")
    if not isinstance(buses, list) or not buses or not all(isinstance(b, dict) for b in buses):
        raise ScenarioError(f, "bus", "missing: give one [[bus]] table per bus, each with "
                            "stops = [[x, y], ...]")
    if len(buses) > MAX_ROUTES:
        raise ScenarioError(f, "bus", f"{len(buses)} buses; at most {MAX_ROUTES}")
    routes = []
    for i, bus in enumerate(buses):
        extra = sorted(set(bus) - {"stops"})
        if extra:
            raise ScenarioError(f, f"bus[{i}].{extra[0]}",
                                f"unknown key{suggest(extra[0], ['stops'])}; allowed: stops")
        stops = bus.get("stops")
        if not isinstance(stops, list) or not stops:
            raise ScenarioError(f, f"bus[{i}].stops", "missing or empty: a list of [x, y] cells")
        if len(stops) > MAX_STOPS:
            raise ScenarioError(f, f"bus[{i}].stops", f"{len(stops)} stops; at most {MAX_STOPS}")
        for j, xy in enumerate(stops):
            ok = (isinstance(xy, list) and len(xy) == 2
                  and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1_000_000
                          for v in xy))
            if not ok:
                raise ScenarioError(f, f"bus[{i}].stops[{j}]", f"{xy!r} is not a cell [x, y] "
                                    "of two non-negative integers")
        routes.append([list(xy) for xy in stops])
    return routes
