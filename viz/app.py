# ruff: noqa: N802 - Solara components are CamelCase by convention
"""The browser view of ``CommerceModel`` for students (run it with ``lifecircle viz``).

One page per browser session, each with its own model (built in the session, never at module
level): a map of the city (old/new communities, roads, walls, vacant storefronts, shops by
category with chains marked, mobile-vendor buses and stops, and a switchable per-cell layer of
satisfaction or 15-minute coverage), Mesa plot components for the daily series, a legend and a
short text on today's numbers, and controls. Scenario, seed, community mix and policy levers are
collected as *pending* settings and take effect when the user presses Reset; the page says which
ones are pending. Every model is made by :func:`build_model`.

Built from Mesa's pieces (``PlotMatplotlib``, the component ``make_plot_component`` returns,
and ``mesa.visualization.utils.update_counter``) rather than the ``SolaraViz`` frame, whose Reset
cannot drive this model: it re-creates ``type(model)(**params)`` (bypassing ``build_model``),
replaces a ``scenario`` keyword with a ``mesa.experimental.scenarios.Scenario``, and its parameter
check raises on ``model.scenario`` being our own scenario object.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import solara  # noqa: E402
import solara.lab  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from mesa.visualization.components.matplotlib_components import PlotMatplotlib  # noqa: E402
from mesa.visualization.utils import force_update, update_counter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = Path(os.environ.get("LIFECIRCLE_SCENARIO_DIR") or ROOT / "scenarios")
#: TOML files in scenarios/ that are not scenarios (tables the scenarios refer to).
NOT_SCENARIOS = {"categories"}
DEFAULT_SCENARIO = "baseline"
DEFAULT_SEED = 1

#: Controls that become keyword overrides of ``CommerceModel``. ``key`` is the override name
#: passed to the model; only levers the user moved are passed, the rest keep the scenario's values.
LEVERS: dict[str, dict[str, Any]] = {
    "share_old": dict(label="Share of old communities", kind="float", lo=0.0, hi=1.0, step=0.05,
                      default=0.5, key="share_old"),
    "n_buses": dict(label="Mobile-vendor buses", kind="int", lo=0, hi=20, step=1, default=0,
                    key="n_buses"),
    "chain_target": dict(label="Chain target (share of outlets)", kind="float", lo=0.0, hi=1.0,
                         step=0.05, default=0.3, key="chain_target"),
    "rent_subsidy_share": dict(label="Rent subsidy (share of rent)", kind="float", lo=0.0,
                               hi=0.8, step=0.05, default=0.0, key="rent_subsidy_share"),
    "canteen_discount": dict(label="Elderly canteen discount", kind="float", lo=0.0, hi=0.5,
                             step=0.05, default=0.0, key="canteen_discount"),
    "instant_retail": dict(label="Instant retail (delivery)", kind="bool", default=True,
                           key="instant_retail"),
}

# ---------------------------------------------------------------------------------------------
# Building models


def scenario_names() -> list[str]:
    """Scenario files in ``scenarios/`` by stem, ``baseline`` first."""
    names = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml") if p.stem not in NOT_SCENARIOS)
    if DEFAULT_SCENARIO in names:
        names.remove(DEFAULT_SCENARIO)
    return [DEFAULT_SCENARIO, *names]


def scenario_source(name: str) -> str:
    """The argument ``CommerceModel(scenario=...)`` gets for a picker entry (a path if a file)."""
    path = SCENARIO_DIR / f"{name}.toml"
    return str(path) if path.exists() else name


def lever_overrides(levers: dict[str, Any] | None) -> dict[str, Any]:
    """Translate the page's lever values into ``CommerceModel`` keyword overrides."""
    out: dict[str, Any] = {}
    for name, value in (levers or {}).items():
        spec = LEVERS[name]
        if spec["kind"] == "int":
            value = int(value)
        elif spec["kind"] == "float":
            value = float(value)
        else:
            value = bool(value)
        out[spec["key"]] = value
    return out


def build_model(scenario: str = DEFAULT_SCENARIO, seed: int = DEFAULT_SEED,
                levers: dict[str, Any] | None = None):
    """Make the model the page shows: ``scenario`` name, integer ``seed``, changed ``levers``."""
    from model import CommerceModel

    return CommerceModel(scenario=scenario_source(scenario), rng=int(seed),
                         **lever_overrides(levers))


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a model is built from; pending (edited) and applied (current model) copies."""

    scenario: str = DEFAULT_SCENARIO
    seed: int = DEFAULT_SEED
    levers: tuple[tuple[str, Any], ...] = ()

    def lever(self, name: str, fallback: Any) -> Any:
        """The pending value of lever ``name``, or ``fallback`` if the user has not moved it."""
        return dict(self.levers).get(name, fallback)

    def with_lever(self, name: str, value: Any) -> Settings:
        """A copy with lever ``name`` set to ``value``."""
        levers = dict(self.levers)
        levers[name] = value
        return dataclasses.replace(self, levers=tuple(sorted(levers.items())))

    def differences(self, other: Settings | None) -> list[str]:
        """Human-readable list of what differs from ``other`` (the running model's settings)."""
        if other is None:
            return []
        out = []
        if self.scenario != other.scenario:
            out.append(f"scenario {other.scenario} → {self.scenario}")
        if self.seed != other.seed:
            out.append(f"seed {other.seed} → {self.seed}")
        mine, theirs = dict(self.levers), dict(other.levers)
        for name in LEVERS:
            if mine.get(name) != theirs.get(name):
                shown = mine.get(name, "scenario value")
                out.append(f"{LEVERS[name]['label'].lower()} → {shown}")
        return out


# ---------------------------------------------------------------------------------------------
# Reading the model (duck-typed, so the page survives small changes in the model)


def agents_of(model, class_name: str) -> list:
    """Agents whose class is called ``class_name`` (Shop, Bus, ...)."""
    out: list = []
    for cls, agentset in model.agents_by_type.items():
        if cls.__name__ == class_name:
            out.extend(agentset.to_list() if hasattr(agentset, "to_list") else list(agentset))
    return out


def day_of(model) -> int:
    """The model's day (``model.day``, else Mesa's step count)."""
    return int(getattr(model, "day", getattr(model, "steps", 0)))


def today(model) -> dict[str, float]:
    """Today's metrics, or an empty dict if the model cannot compute them."""
    try:
        return dict(model.metrics())
    except Exception:  # noqa: BLE001 - a metric bug must not take the page down
        return {}


def lever_value_in_model(model, name: str) -> Any:
    """The value a lever has in the running model (if the model exposes it), else None."""
    key = LEVERS[name]["key"]
    for holder in ("params", "config"):
        obj = getattr(model, holder, None)
        if obj is not None and hasattr(obj, key):
            return getattr(obj, key)
    return None


def _xy(cell) -> tuple[int, int]:
    coord = cell.coordinate if hasattr(cell, "coordinate") else cell
    return int(coord[0]), int(coord[1])


# ---------------------------------------------------------------------------------------------
# The map

COLOURS = {
    "road": "#d6d6d6",
    "old": "#f3d9b1",
    "new": "#c9ddf0",
    "residential": "#eeeeee",
    "vacant": "#7a7a7a",
    "wall": "#4e342e",
}
CATEGORY_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                    "#e377c2", "#17becf", "#bcbd22", "#393b79", "#ad494a", "#637939"]
LAYERS = ["Plain map", "Satisfaction", "15-min coverage"]


def category_colours(model, shops) -> dict[str, str]:
    """A fixed colour per category: the model's category order if known, else sorted names."""
    names: list[str] = []
    cats = getattr(model, "categories", None)
    for attr in ("names", "categories"):
        seq = getattr(cats, attr, None)
        if seq is not None:
            names = [getattr(c, "name", c) for c in seq]
            break
    names = [*names, *sorted({s.category for s in shops} - set(names))]
    return {n: CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)] for i, n in enumerate(names)}


def base_map_rgb(city) -> np.ndarray:
    """(width, height, 3) colours of the city's cells: communities, roads, walls, storefronts."""
    from matplotlib.colors import to_rgb

    ct = np.asarray(city.cell_type)
    com = np.asarray(city.community_type)
    rgb = np.empty((*ct.shape, 3))
    rgb[:] = to_rgb(COLOURS["road"])
    homes = ct == 1
    rgb[homes] = to_rgb(COLOURS["residential"])
    rgb[homes & (com == 0)] = to_rgb(COLOURS["old"])
    rgb[homes & (com == 1)] = to_rgb(COLOURS["new"])
    rgb[ct == 2] = to_rgb(COLOURS["vacant"])
    rgb[ct == 3] = to_rgb(COLOURS["wall"])
    return rgb


def draw_map(model, layer: str = LAYERS[0]) -> Figure:
    """Draw the city, shops and buses; optionally a per-cell property layer on top."""
    city = model.city
    rgb = base_map_rgb(city)
    w, h = rgb.shape[:2]
    fig = Figure(figsize=(7.0, 8.6), dpi=80)
    ax = fig.add_axes((0.03, 0.30, 0.94, 0.66))
    extent = (-0.5, w - 0.5, -0.5, h - 0.5)
    ax.imshow(rgb.transpose(1, 0, 2), origin="lower", extent=extent, interpolation="nearest")
    metres = getattr(city, "cell_size_m", None)
    title = f"Day {day_of(model)}"
    if metres:
        title += f" · {w * metres / 1000:.1f} × {h * metres / 1000:.1f} km"
    ax.set_title(title, fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])

    if layer != LAYERS[0]:
        getter = model.satisfaction_grid if layer == "Satisfaction" else model.coverage_grid
        data = np.ma.masked_invalid(np.asarray(getter(), dtype=float))
        img = ax.imshow(data.T, origin="lower", extent=extent, interpolation="nearest",
                        cmap="RdYlGn", vmin=0.0, vmax=1.0, alpha=0.85)
        cax = fig.add_axes((0.15, 0.255, 0.7, 0.012))
        fig.colorbar(img, cax=cax, orientation="horizontal",
                     label="mean satisfaction of residents (0-1)" if layer == "Satisfaction"
                     else "share of residents with all basic needs within 15 min walk")

    # one cell in points, for marker sizes that fill a cell at any grid size
    cell_pt = min(0.94 * 7.0, 0.66 * 8.6) * 72 / max(w, h)
    shops = agents_of(model, "Shop")
    colours = category_colours(model, shops)
    if shops:
        xy = np.array([_xy(s.cell) for s in shops], dtype=float)
        col = [colours[s.category] for s in shops]
        chain = np.array([bool(s.chain) for s in shops])
        indep = ~chain
        ax.scatter(xy[indep, 0], xy[indep, 1], s=(0.95 * cell_pt) ** 2, marker="s",
                   c=[c for c, k in zip(col, indep, strict=True) if k], linewidths=0, zorder=3)
        ax.scatter(xy[chain, 0], xy[chain, 1], s=(1.15 * cell_pt) ** 2, marker="D",
                   c=[c for c, k in zip(col, chain, strict=True) if k], edgecolors="black",
                   linewidths=max(0.4, cell_pt / 8), zorder=4)

    buses = agents_of(model, "Bus")
    stops = list(getattr(model, "bus_stops", None) or [])
    for bus in buses:
        stops.extend(getattr(bus, "stops", None) or [])
    big = max(7.0, 2.2 * cell_pt)
    if stops:
        sxy = np.array([_xy(s) for s in stops], dtype=float)
        ax.scatter(sxy[:, 0], sxy[:, 1], s=(0.7 * big) ** 2, marker="o", facecolors="white",
                   edgecolors="black", linewidths=1.0, zorder=5)
    if buses:
        bxy = np.array([_xy(b.cell) for b in buses], dtype=float)
        ax.scatter(bxy[:, 0], bxy[:, 1], s=big**2, marker="^", c="black", edgecolors="white",
                   linewidths=1.0, zorder=6)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])

    handles = [
        Patch(facecolor=COLOURS["old"], edgecolor="#999", label="old community (homes)"),
        Patch(facecolor=COLOURS["new"], edgecolor="#999", label="new community (homes)"),
        Patch(facecolor=COLOURS["road"], edgecolor="#999", label="road / lane"),
        Patch(facecolor=COLOURS["wall"], label="compound wall"),
        Patch(facecolor=COLOURS["vacant"], label="vacant storefront"),
    ]
    handles += [Line2D([], [], marker="s", ls="", color=c, markersize=8, label=n)
                for n, c in colours.items()]
    handles += [
        Line2D([], [], marker="s", ls="", color="#bbbbbb", markersize=8, label="independent shop"),
        Line2D([], [], marker="D", ls="", color="#bbbbbb", markeredgecolor="black",
               markersize=8, label="chain outlet"),
        Line2D([], [], marker="^", ls="", color="black", markersize=9, label="mobile-vendor bus"),
        Line2D([], [], marker="o", ls="", markerfacecolor="white", markeredgecolor="black",
               markersize=8, label="bus stop"),
    ]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.2), ncols=3,
               fontsize=8.5, frameon=False)
    return fig


# ---------------------------------------------------------------------------------------------
# Text about today's numbers


def _pct(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


def summary_markdown(model, applied: Settings | None) -> str:
    """A few sentences on today's numbers for students."""
    m = today(model)
    day = day_of(model)
    get = m.get
    lines = [f"### Day {day}"]
    if applied is not None:
        lines.append(f"Scenario **{applied.scenario}**, seed {applied.seed}.\n")
    change = ""
    try:
        df = model.datacollector.get_model_vars_dataframe()
        if len(df) >= 2 and "share_satisfied" in df:
            delta = 100 * (df["share_satisfied"].iloc[-1] - df["share_satisfied"].iloc[-2])
            change = f" ({delta:+.1f} points since yesterday)"
    except Exception:  # noqa: BLE001
        pass
    lines += [
        f"- **Satisfied residents:** {_pct(get('share_satisfied'))}{change}: old communities "
        f"{_pct(get('share_satisfied_old'))}, new {_pct(get('share_satisfied_new'))}, "
        f"elderly {_pct(get('share_satisfied_elderly'))}.",
        f"- **15-minute basic coverage:** {_pct(get('coverage_basic_all'))} of residents reach "
        "every basic shop or service within a 15-minute walk.",
    ]
    if get("outlets_open") is not None:
        lines.append(f"- **Outlets open:** {get('outlets_open'):.0f}, of which chains "
                     f"{_pct(get('chain_rate'))}.")
    buses = agents_of(model, "Bus")
    lines.append(f"- **Mobile-vendor buses:** {len(buses)} on the road.")
    if get("public_spend") is not None:
        lines.append(f"- **Public spend so far:** ¥{get('public_spend'):,.0f} (subsidies, "
                     "buses, canteen discounts).")
    lines.append(
        "\n*Satisfied* means a resident's recent needs were met well enough (moving average "
        "above the threshold); *coverage* counts walking distance on the street network, "
        "not as the crow flies."
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Components

SHARE_PLOTS = [
    ("Share of residents satisfied", {
        "share_satisfied": "black", "share_satisfied_old": "#c47c1a",
        "share_satisfied_new": "#2f6db3", "share_satisfied_elderly": "#8e44ad"}, True),
    ("15-minute coverage of basic needs", None, True),
    ("Chains and outlets", {"chain_rate": "#d62728"}, True),
    ("Public spend (yuan, cumulative)", {"public_spend": "#2ca02c"}, False),
]


def _post(title: str, share: bool, twin: tuple[str, Any] | None = None):
    def post_process(ax):
        ax.figure.set_size_inches(5.2, 3.0)
        ax.figure.set_dpi(80)
        ax.set_title(title, fontsize=10)
        if share:
            ax.set_ylim(0, 1)
        if twin is not None:
            name, series = twin
            ax2 = ax.twinx()
            ax2.plot(series, color="#555555", ls="--", label=name)
            ax2.set_ylabel(name, fontsize=8)
            ax2.legend(loc="lower right", fontsize=7)
        leg = ax.get_legend()
        if leg is not None:
            for text in leg.get_texts():
                text.set_fontsize(7)
    return post_process


@solara.component
def Plots(model):
    """Mesa plot components for the daily series (only the columns the model records)."""
    counter = update_counter.get()
    try:
        df = model.datacollector.get_model_vars_dataframe()
    except Exception as e:  # noqa: BLE001
        solara.Warning(f"No daily series: {e}")
        return
    cols = set(df.columns)
    with solara.GridFixed(columns=2):
        for title, measure, share in SHARE_PLOTS:
            twin = None
            if measure is None:  # basic coverage, overall and by group where recorded
                measure = {"coverage_basic_all": "black", "coverage_basic_all_old": "#c47c1a",
                           "coverage_basic_all_new": "#2f6db3",
                           "coverage_basic_all_elderly": "#8e44ad"}
            if "chain_rate" in measure and "outlets_open" in cols:
                twin = ("outlets_open", df["outlets_open"])
            measure = {k: v for k, v in measure.items() if k in cols}
            if not measure:
                solara.Text(f"{title}: not recorded by this model")
                continue
            with solara.Div(classes=["lc-plot"]):
                # the component make_plot_component(measure, backend="matplotlib") makes, given
                # dependencies so a re-render without a new day does not redraw the PNG
                PlotMatplotlib(model, measure, post_process=_post(title, share, twin),
                               dependencies=[id(model), counter])


@solara.component
def MapView(model, layer: str):
    """The map as a PNG image, redrawn each day and when the layer changes."""
    counter = update_counter.get()
    fig = solara.use_memo(lambda: draw_map(model, layer), dependencies=[model, layer, counter])
    with solara.Div(classes=["lc-map"]):
        solara.FigureMatplotlib(fig, format="png", dependencies=[id(model), layer, counter])


@solara.component
def Summary(model, applied):
    """The text panel on today's numbers."""
    update_counter.get()
    with solara.Div(classes=["lc-summary"]):
        solara.Markdown(summary_markdown(model, applied))


@solara.component
def DayBadge(model):
    """The day shown above the run buttons."""
    update_counter.get()
    running = getattr(model, "running", True)
    solara.Text(f"Day {day_of(model)}" + ("" if running else " (finished)"),
                classes=["lc-day"], style={"font-size": "1.3em", "font-weight": "bold"})


@solara.component
def LeverInput(name: str, pending: solara.Reactive[Settings], model):
    """A slider or switch for one lever; a moved lever becomes an override."""
    spec = LEVERS[name]
    in_model = lever_value_in_model(model, name) if model is not None else None
    fallback = in_model if in_model is not None else spec["default"]
    overridden = name in dict(pending.value.levers)
    value = pending.value.lever(name, fallback)
    label = spec["label"] + ("" if overridden else " (scenario)")

    def set_value(v):
        pending.value = pending.value.with_lever(name, v)

    if spec["kind"] == "bool":
        solara.Switch(label=label, value=bool(value), on_value=set_value)
    elif spec["kind"] == "int":
        solara.SliderInt(label, value=int(value), min=spec["lo"], max=spec["hi"],
                         step=spec["step"], on_value=set_value)
    else:
        solara.SliderFloat(label, value=float(value), min=spec["lo"], max=spec["hi"],
                           step=spec["step"], on_value=set_value)


@solara.component
def SetupControls(pending: solara.Reactive[Settings], applied: Settings | None, model):
    """Scenario, seed and levers (pending until Reset), and whether they are applied."""
    names = solara.use_memo(scenario_names, [])
    s = pending.value
    solara.Select("Scenario", values=names, value=s.scenario,
                  on_value=lambda v: pending.set(dataclasses.replace(pending.value, scenario=v)),
                  classes=["lc-scenario"])
    solara.InputInt("Seed", value=s.seed,
                    on_value=lambda v: pending.set(dataclasses.replace(pending.value,
                                                                       seed=int(v or 0))),
                    classes=["lc-seed"])
    for name in LEVERS:
        LeverInput(name, pending, model)
    solara.Button("Use the scenario's lever values", text=True, small=True,
                  on_click=lambda: pending.set(dataclasses.replace(pending.value, levers=())))
    diffs = s.differences(applied)
    if diffs:
        solara.Warning("Not applied yet: " + "; ".join(diffs)
                       + ". Press Reset to rebuild the model with these settings.",
                       dense=True, classes=["lc-pending"])
    else:
        solara.Info("The running model uses these settings. Changes here take effect on Reset.",
                    dense=True, classes=["lc-applied"])


@solara.component
def RunCard(model, playing: solara.Reactive[bool], interval_ms: solara.Reactive[int],
            days_per_frame: solara.Reactive[int], building: bool, on_step, on_reset):
    """Day, Step / Play / Reset and play speed."""
    # Step/Play need a model that is still running; Reset works unless a build is under way.
    idle = model is not None and not building and bool(getattr(model, "running", True))
    with solara.Card("Run", margin=0, classes=["lc-run"]):
        if model is not None:
            DayBadge(model)
        with solara.Row():
            solara.Button("Step", color="primary", on_click=on_step,
                          disabled=not idle or playing.value)
            solara.Button("Pause" if playing.value else "Play", color="primary",
                          on_click=lambda: playing.set(not playing.value), disabled=not idle)
            solara.Button("Reset", color="primary", outlined=True, on_click=on_reset,
                          disabled=building)
        solara.SliderInt("Play: pause between frames (ms)", value=interval_ms, min=0, max=2000,
                         step=50)
        solara.SliderInt("Play: days per frame", value=days_per_frame, min=1, max=30)


@solara.component
def MainView(model, applied: Settings | None, layer: solara.Reactive[str]):
    """Map with layer switch, text panel and plots."""
    with solara.Columns([3, 2], classes=["lc-main"]):
        with solara.Column():
            solara.ToggleButtonsSingle(value=layer, values=LAYERS, classes=["lc-layer"])
            MapView(model, layer.value)
        Summary(model, applied)
    Plots(model)


@solara.component
def Page():
    """One session's page: its own model, controls, map, plots and text."""
    pending = solara.use_reactive(Settings())
    current = solara.use_reactive((None, None))  # (model, the Settings it was built from)
    build_no = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    interval_ms = solara.use_reactive(300)
    days_per_frame = solara.use_reactive(1)
    layer = solara.use_reactive(LAYERS[0])
    error = solara.use_reactive(None)

    def build():
        settings = pending.value
        playing.value = False
        try:
            m = build_model(settings.scenario, settings.seed, dict(settings.levers))
        except Exception as e:  # noqa: BLE001 - show the model's message on the page
            error.value = f"Could not build the model: {type(e).__name__}: {e}"
            return
        error.value = None
        current.value = (m, settings)

    builder = solara.lab.use_task(build, dependencies=[build_no.value], prefer_threaded=True)
    model, applied = current.value

    def play_loop():
        m = model
        while playing.value and m is not None and current.value[0] is m:
            t0 = time.monotonic()
            try:
                for _ in range(max(1, days_per_frame.value)):
                    m.step()
                    if not getattr(m, "running", True) or not playing.value:
                        break
            except Exception as e:  # noqa: BLE001
                error.value = f"Error in step: {type(e).__name__}: {e}"
                playing.value = False
                break
            force_update()  # redraws map, plots and text (~1 s on 2 cores)
            if not getattr(m, "running", True):
                playing.value = False
                break
            time.sleep(max(0.0, interval_ms.value / 1000 - (time.monotonic() - t0)))

    solara.lab.use_task(play_loop, dependencies=[playing.value, model], prefer_threaded=True)

    def do_step():
        m = current.value[0]
        if m is not None and not playing.value:
            try:
                m.step()
            except Exception as e:  # noqa: BLE001
                error.value = f"Error in step: {type(e).__name__}: {e}"
            force_update()

    def do_reset():
        playing.value = False
        build_no.value += 1

    building = builder.pending or (model is None and not error.value)
    solara.Title("LifeCircle")
    with solara.AppBar():
        solara.AppBarTitle("LifeCircle · 15-minute living circles")
    with solara.Sidebar():
        RunCard(model, playing, interval_ms, days_per_frame, building, do_step, do_reset)
        with solara.Card("Set-up (applies on Reset)", margin=0):
            SetupControls(pending, applied, model)
    if error.value:
        solara.Error(error.value, classes=["lc-error"])
    if building:
        with solara.Column(align="center", classes=["lc-building"]):
            solara.Text("Building the model…")
            solara.ProgressLinear(True)
    if model is not None:
        MainView(model, applied, layer)
