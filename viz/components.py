# ruff: noqa: N802 - Solara components are CamelCase by convention
"""The page's pieces as Solara components: map, legend, plots, text, inspector, controls.

Components that show the model read Mesa's ``update_counter``, so ``force_update()`` (after a
Step, each frame of Play, a new twin) redraws them. Drawing takes the run's lock.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import solara
from mesa.visualization.utils import update_counter

from model.categories import CategoryTable

from .inspector import cell_markdown
from .legend import colourbar_html, legend_html
from .levers import LEVERS, Lever, Settings, format_value, lever_value, same_value, scenario_choices
from .mapview import LAYER_BY_KEY, LAYERS, PLAIN_MAP, MapPainter, layer_values
from .plots import PlotPainter
from .run import Pin, Run
from .story import grade_rule, summary_markdown


@solara.component_vue("clickmap.vue")
def ClickMap(src: str, alt: str, event_click: Callable[[dict], None]):
    """An image that reports where it was clicked, as fractions of its shown size."""


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@solara.component
def MapPanel(run: Run, layer: solara.Reactive[str], category: solara.Reactive[str],
             difference: solara.Reactive[bool], selected: solara.Reactive[tuple | None],
             categories: CategoryTable, on_use: Callable[[], None]):
    """Layer buttons, the map (click a cell to inspect it), its colour bar and legend."""
    counter = update_counter.get()
    outline = solara.use_reactive(True)
    painter = solara.use_memo(lambda: MapPainter(run.model), dependencies=[run])
    lay = LAYER_BY_KEY[layer.value]
    diff_on = difference.value and run.twin is not None and lay is not PLAIN_MAP

    def draw() -> tuple[str, set[str]]:
        with run.lock:
            values = layer_values(run.model, lay, category.value)
            if diff_on:
                values = values - layer_values(run.twin, lay, category.value)
            png = painter.png(values, diverging=diff_on, selected=selected.value,
                              policy_sites=outline.value, graded=lay.graded)
            return _data_url(png), set(painter.drawn)

    src, drawn = solara.use_memo(draw, dependencies=[painter, counter, layer.value,
                                                     category.value, diff_on, selected.value,
                                                     run.twin is not None, outline.value])

    def clicked(data: dict) -> None:
        on_use()
        selected.set(painter.cell_at(float(data["x"]), float(data["y"])))

    with solara.Div(classes=["lc-layers"]):
        solara.ToggleButtonsSingle(value=layer, values=[lyr.key for lyr in LAYERS],
                                   classes=["lc-layer"])
        if lay.per_category:
            solara.Select("Format", values=list(categories.names), value=category,
                          classes=["lc-category"])
        if run.model.policies:
            solara.Switch(label="Outline what the policies did", value=outline,
                          classes=["lc-outline"])
        if run.twin is not None and lay is not PLAIN_MAP:
            solara.Switch(label="Show the difference from the baseline", value=difference,
                          classes=["lc-difference"])
    solara.Text(f"Day {run.day} · {map_size(run)} · click a cell to inspect it",
                classes=["lc-maptitle"])
    with solara.Div(classes=["lc-map"]):
        ClickMap(src=src, alt=f"map of the city on day {run.day}", event_click=clicked)
    if lay is not PLAIN_MAP:
        standard = float(categories.standard_min[categories.index[category.value]])
        note = grade_rule(run.model) if lay.graded else ""
        solara.HTML(tag="div", unsafe_innerHTML=colourbar_html(lay, category.value, diff_on,
                                                               standard, note),
                    classes=["lc-colourbar"])
    solara.HTML(tag="div", unsafe_innerHTML=legend_html(drawn, categories), classes=["lc-legend"])


def map_size(run: Run) -> str:
    """The city's size and cell size, in words."""
    city = run.model.city
    metres = city.cell_size_m
    return (f"{city.width * metres / 1000:.1f} × {city.height * metres / 1000:.1f} km, "
            f"one cell {metres:.0f} m")


@solara.component
def Inspector(run: Run, selected: solara.Reactive[tuple | None]):
    """What is at the clicked cell."""
    update_counter.get()
    if selected.value is None:
        return
    with run.lock:
        text = cell_markdown(run.model, selected.value)
    with solara.Card(margin=0, classes=["lc-inspector"]):
        solara.Markdown(text)
        solara.Button("Close", text=True, small=True, on_click=lambda: selected.set(None))


@solara.component
def Plots(run: Run, pins: tuple[Pin, ...]):
    """The daily series from day 0, pinned runs in grey, the baseline twin dotted."""
    counter = update_counter.get()
    painter = solara.use_memo(lambda: PlotPainter(run, pins),
                              dependencies=[run, pins, run.twin is not None])
    png = solara.use_memo(painter.png, dependencies=[painter, counter])
    with solara.Div(classes=["lc-plots"]):
        solara.Image(png, format="png")


@solara.component
def Summary(run: Run):
    """Today's numbers, what each policy did, and how to read them."""
    update_counter.get()
    with run.lock:
        text = summary_markdown(run)
    with solara.Div(classes=["lc-summary"]):
        solara.Markdown(text)


@solara.component
def LeverInput(lever: Lever, pending: solara.Reactive[Settings], run: Run | None):
    """A slider or switch for one lever, saying where its value comes from and if it is used."""
    value, moved = pending.value.value(lever)
    in_use = run is not None and same_value(value, lever_value(run.model.config, lever))
    origin = "your setting" if moved else f"{pending.value.scenario}'s value"
    status = "in use" if in_use else "applies on Reset"
    label = f"{lever.label}: {format_value(lever, value)} ({origin} · {status})"

    def set_value(v) -> None:
        pending.value = pending.value.with_lever(lever.name, v)

    with solara.Column(gap="0px", classes=["lc-lever", f"lc-lever-{lever.name}"]):
        if lever.kind is bool:
            solara.Switch(label=label, value=bool(value), on_value=set_value)
            return
        solara.Text(label, classes=["lc-lever-label"])
        if lever.kind is int:
            solara.SliderInt("", value=int(value), min=int(lever.lo), max=int(lever.hi),
                             step=int(lever.step), on_value=set_value)
        else:
            solara.SliderFloat("", value=float(value), min=lever.lo, max=lever.hi,
                               step=lever.step, on_value=set_value)


@solara.component
def SetupControls(pending: solara.Reactive[Settings], applied: Settings | None,
                  run: Run | None):
    """Scenario, seed and levers (pending until Reset), and whether they are applied."""
    s = pending.value
    names = scenario_choices()
    solara.Select("Scenario", values=names if s.scenario in names else [*names, s.scenario],
                  value=s.scenario,
                  on_value=lambda v: pending.set(Settings(scenario=v, seed=pending.value.seed,
                                                          levers=pending.value.levers)),
                  classes=["lc-scenario"])
    solara.InputInt("Seed (a whole number, 0 or more)", value=s.seed,
                    on_value=lambda v: pending.set(Settings(
                        scenario=pending.value.scenario, seed=int(v or 0),
                        levers=pending.value.levers, scenario_obj=pending.value.scenario_obj)),
                    classes=["lc-seed"])
    for lever in LEVERS:
        LeverInput(lever, pending, run)
    solara.Button("Use the scenario's lever values", text=True, small=True,
                  on_click=lambda: pending.set(Settings(
                      scenario=pending.value.scenario, seed=pending.value.seed,
                      scenario_obj=pending.value.scenario_obj)))
    problems = s.problems()
    diffs = s.differences(applied)
    if problems:
        solara.Error("Cannot build: " + "; ".join(problems) + ".", dense=True,
                     classes=["lc-problem"])
    elif diffs:
        solara.Warning("Not applied yet: " + "; ".join(diffs)
                       + ". Press Reset to rebuild the model with these settings.",
                       dense=True, classes=["lc-pending"])
    else:
        solara.Info("The running model uses these settings. Changes here take effect on Reset.",
                    dense=True, classes=["lc-applied"])


@solara.component
def RunBar(run: Run | None, playing: solara.Reactive[bool], busy: bool, can_reset: bool,
           on_step: Callable[[], None], on_reset: Callable[[], None]):
    """Day, Step / Play / Reset: the bar that stays at the top of the page."""
    update_counter.get()
    idle = run is not None and not busy and run.model.running
    with solara.Row(classes=["lc-runbar"], gap="8px"):
        day = "–" if run is None else f"Day {run.day}" + ("" if run.model.running else
                                                          " (finished)")
        solara.Text(day, classes=["lc-day"])
        solara.Button("Step", color="primary", on_click=on_step,
                      disabled=not idle or playing.value)
        solara.Button("Pause" if playing.value else "Play", color="primary",
                      on_click=lambda: playing.set(not playing.value), disabled=not idle)
        solara.Button("Reset", color="primary", outlined=True, on_click=on_reset,
                      disabled=busy or not can_reset)
        solara.HTML(tag="a", unsafe_innerHTML="Set-up ↓", attributes={"href": "#lc-setup"},
                    classes=["lc-setup-link"])
