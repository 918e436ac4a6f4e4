# ruff: noqa: N802 - Solara components are CamelCase by convention
"""The page: one model per browser session, its controls, and the tasks that drive it.

Each browser session builds its own model (never at module level, so sessions never share
one). Scenario, seed and levers are edited as *pending* settings and take effect on Reset.
Three background tasks drive a session: the *builder* (Reset, opening an experiment's run),
*Play* (steps, redraws through Mesa's ``force_update``, and stops the frame its tab is gone:
:class:`viz.session.Watch`), and a *watchdog* that drops the model after a while without use
(:class:`viz.session.Activity`).

Why not Mesa's ``SolaraViz`` frame: its Reset rebuilds the model with
``type(model)(**kwargs)`` where ``mesa.visualization.solara_viz._build_model_init_kwargs``
always adds ``scenario=mesa.experimental.scenarios.Scenario(...)`` for a model whose
``__init__`` accepts ``scenario`` and whose Mesa ``model.scenario`` is set (every Mesa 3.5
model's is). ``CommerceModel``'s public ``scenario=`` means a lifecircle scenario (name, path
or object; DESIGN section 3), so Reset hands it a Mesa ``Scenario`` and the build fails with a
``ScenarioError`` (``tests/test_viz_structure.py`` checks this against the installed Mesa).
Its controller also keeps stepping with no page connected, has no notion of pending settings,
and cannot step a baseline twin alongside. The page uses Mesa's ``update_counter`` and
``force_update`` for redraws and Mesa's grid and agent sets to read the model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import solara
import solara.lab
from mesa.visualization.utils import force_update

from model.errors import LifecircleError, ResultsError

from .components import Inspector, MapPanel, Plots, RunBar, SetupControls, Summary
from .controls import CompareCard, ExportCard, ReplayCard, SpeedCard
from .layout import CSS
from .levers import Settings
from .replay import Replay, compare_with_record
from .run import Pin, Run
from .session import CHECK_SECONDS, Activity, Watch, release_memory_soon


@dataclass(frozen=True)
class BuildRequest:
    """What Reset (or opening a run) asks the builder for."""

    number: int
    settings: Settings
    replay: Replay | None = None


def replay_check(run: Run, replay: Replay) -> str:
    """The verdict on a replayed run against its record."""
    try:
        differing = compare_with_record(run.frame(), replay)
    except ResultsError as err:
        return f"Cannot check the replay against its record: {err}"
    if not differing:
        return (f"Replayed {run.day} days: every daily metric is identical to the recorded "
                "run.")
    return f"Replayed {run.day} days; these differ from the recorded run: {', '.join(differing)}."


@solara.component
def Page():
    """One session's page."""
    pending = solara.use_reactive(Settings())
    request = solara.use_reactive(BuildRequest(0, Settings()))
    current = solara.use_reactive(None)  # the Run shown, or None
    playing = solara.use_reactive(False)
    until = solara.use_reactive(None)  # Play stops at this day (a replay)
    interval_ms = solara.use_reactive(300)
    days_per_frame = solara.use_reactive(1)
    layer = solara.use_reactive("Plain map")
    category = solara.use_reactive("fresh_food")
    difference = solara.use_reactive(False)
    compare = solara.use_reactive(False)
    selected = solara.use_reactive(None)
    pins: solara.Reactive[tuple[Pin, ...]] = solara.use_reactive(())
    notice = solara.use_reactive("")
    replay: solara.Reactive[Replay | None] = solara.use_reactive(None)
    check = solara.use_reactive("")
    activity = solara.use_memo(Activity, [])
    watch = solara.use_memo(Watch.current, [])

    def build() -> None:
        req = request.value
        origin = req.replay.origin if req.replay is not None else ""
        try:
            run = Run.build(req.settings, origin)
        except LifecircleError as err:
            notice.set(f"Could not build the model: {err}")
            return
        current.set(run)
        notice.set("")
        activity.touch()

    builder = solara.lab.use_task(build, dependencies=[request.value.number],
                                  prefer_threaded=True)
    run: Run | None = current.value

    def twin() -> None:
        if run is None:
            return
        if compare.value and run.twin is None:
            run.start_twin()
        elif not compare.value and run.twin is not None:
            run.stop_twin()
        force_update()

    twin_task = solara.lab.use_task(twin, dependencies=[compare.value, run],
                                    prefer_threaded=True)

    def play() -> None:
        while playing.value and run is not None and current.value is run:
            if not watch.connected():  # the tab was closed or reloaded: nobody watches
                playing.value = False
                break
            t0 = time.monotonic()
            days = max(1, days_per_frame.value)
            if until.value is not None:
                days = min(10, until.value - run.day)
            run.step(days)
            force_update()
            if until.value is not None and run.day >= until.value:
                if replay.value is not None:
                    check.value = replay_check(run, replay.value)
                until.value = None
                playing.value = False
                break
            if not run.model.running:
                playing.value = False
                break
            if until.value is None:
                time.sleep(max(0.0, interval_ms.value / 1000 - (time.monotonic() - t0)))

    player = solara.lab.use_task(play, dependencies=[playing.value, run], prefer_threaded=True)

    def watchdog() -> None:
        while not watch.wait_closed(CHECK_SECONDS):
            if activity.should_drop(current.value is not None):
                playing.value = False
                current.value = None
                notice.value = activity.dropped_notice()
                release_memory_soon()
        release_memory_soon()  # the session closed: its state is let go meanwhile

    solara.lab.use_task(watchdog, dependencies=[], prefer_threaded=True)
    solara.use_effect(activity.touch, [layer.value, category.value, difference.value,
                                       selected.value, pending.value, compare.value,
                                       pins.value, playing.value])

    def do_step() -> None:
        activity.touch()
        if run is not None and not playing.value:
            run.step(1)
            force_update()

    def start_build(settings: Settings, rep: Replay | None) -> None:
        activity.touch()
        playing.value = False
        until.value = None
        check.value = ""
        selected.value = None
        replay.value = rep
        request.value = BuildRequest(request.value.number + 1, settings, rep)

    def do_reset() -> None:
        if pending.value.problems():
            return
        rep = replay.value
        keep = rep is not None and pending.value == rep.settings
        start_build(pending.value, rep if keep else None)

    def open_run(rep: Replay) -> None:
        pending.value = rep.settings
        start_build(rep.settings, rep)

    def replay_run() -> None:
        activity.touch()
        if run is not None and replay.value is not None and run.day < replay.value.days:
            check.value = ""
            until.value = replay.value.days
            playing.value = True
        elif run is not None and replay.value is not None:
            check.value = replay_check(run, replay.value)

    busy = builder.pending or twin_task.pending
    applied = run.settings if run is not None else None
    solara.Title("LifeCircle · 15-minute living circles")
    solara.Style(CSS)
    RunBar(run, playing, busy or until.value is not None, not pending.value.problems(),
           do_step, do_reset)
    for task, what in ((builder, "building the model"), (twin_task, "running the baseline"),
                       (player, "stepping the model")):
        if task.error:
            solara.Error(f"Error while {what}: {type(task.exception).__name__}: "
                         f"{task.exception}", classes=["lc-error"])
    if notice.value:
        solara.Warning(notice.value, classes=["lc-notice"])
    with solara.Div(classes=["lc-page"]):
        with solara.Div(classes=["lc-setup"], attributes={"id": "lc-setup"}):
            with solara.Card("Set-up (applies on Reset)", margin=0):
                SetupControls(pending, applied, run)
            CompareCard(run, compare, twin_task.pending, pins)
            SpeedCard(interval_ms, days_per_frame)
            ExportCard(run)
            ReplayCard(replay.value, open_run, replay_run, check.value,
                       busy or playing.value)
            solara.Text("Built with Mesa and Solara.", classes=["lc-footer"])
        with solara.Div(classes=["lc-main"]):
            if run is None:
                if builder.pending:
                    with solara.Column(align="center", classes=["lc-building"]):
                        solara.Text("Building the model…")
                        solara.ProgressLinear(True)
                return
            with solara.Div(classes=["lc-left"]):
                with solara.Div(classes=["lc-mapcol"]):
                    MapPanel(run, layer, category, difference, selected,
                             run.model.categories, activity.touch)
                Inspector(run, selected)
            with solara.Div(classes=["lc-side"]):
                with solara.Div(classes=["lc-textcol"]):
                    Summary(run)
                with solara.Div(classes=["lc-plotcol"]):
                    Plots(run, pins.value)
