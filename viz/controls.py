# ruff: noqa: N802 - Solara components are CamelCase by convention
"""The page's side cards: compare and pin, export, replay a finished experiment, play speed."""

from __future__ import annotations

from collections.abc import Callable

import solara
from mesa.visualization.utils import update_counter

from model.errors import ResultsError

from .replay import Replay, experiment_folders, finished_runs, replay_settings
from .run import Pin, Run, pin_of

MAX_PINS = 5


@solara.component
def CompareCard(run: Run | None, compare: solara.Reactive[bool], twin_busy: bool,
                pins: solara.Reactive[tuple[Pin, ...]]):
    """Compare with the baseline twin; pin runs as grey reference lines."""
    with solara.Card("Compare", margin=0, classes=["lc-compare"]):
        solara.Switch(label="Compare with baseline (same seed, no policy)", value=compare,
                      disabled=run is None, classes=["lc-compare-switch"])
        if twin_busy:
            solara.Text("Running the baseline up to today…", classes=["lc-twin-busy"])
        elif compare.value and run is not None and run.twin is not None:
            solara.Text("Dotted lines: the baseline. Map layers can show the difference.",
                        style={"font-size": "0.85em"})

        def pin() -> None:
            if run is not None:
                pins.set((*pins.value, pin_of(run))[-MAX_PINS:])

        with solara.Row(gap="6px"):
            solara.Button("Pin run", small=True, on_click=pin, disabled=run is None,
                          classes=["lc-pin"])
            solara.Button("Clear pins", small=True, text=True, on_click=lambda: pins.set(()),
                          disabled=not pins.value)
        for p in pins.value:
            solara.Text(f"pinned: {p.label}", classes=["lc-pinned"],
                        style={"font-size": "0.8em", "color": "#666"})


@solara.component
def ExportCard(run: Run | None):
    """Download the run's daily series as CSV."""
    update_counter.get()
    with solara.Card("Export", margin=0, classes=["lc-export"]):
        if run is None:
            solara.Text("No model.")
            return
        with solara.Div(classes=["lc-download"]):
            solara.FileDownload(data=run.csv, filename=run.csv_name(),
                                label="Download daily series (CSV)", mime_type="text/csv")


@solara.component
def ReplayCard(replay: Replay | None, on_open: Callable[[Replay], None],
               on_replay: Callable[[], None], check: str, busy: bool):
    """Open a run of a finished experiment, replay it and check it against its record."""
    folders = solara.use_memo(experiment_folders, [])
    folder = solara.use_reactive(folders[0] if folders else "")
    chosen = solara.use_reactive("")
    error = solara.use_reactive("")
    runs = solara.use_memo(lambda: finished_runs(folder.value) if folder.value else [],
                           [folder.value])
    labels = {r.label: r for r in runs}
    with solara.Card("Replay an experiment's run", margin=0, classes=["lc-replay"]):
        if not folders:
            solara.Text("No finished experiment in the results folder.")
            return
        solara.Select("Results folder", values=folders, value=folder, classes=["lc-results"])
        solara.Select("Run (scenario · point · replicate)", values=list(labels),
                      value=chosen, classes=["lc-run-pick"])

        def open_run() -> None:
            try:
                rep = replay_settings(folder.value, labels[chosen.value].run_id)
            except ResultsError as err:
                error.set(str(err))
                return
            error.set("")
            on_open(rep)

        solara.Button("Open this run", small=True, on_click=open_run,
                      disabled=chosen.value not in labels or busy, classes=["lc-open-run"])
        if error.value:
            solara.Error(error.value, dense=True)
        if replay is not None:
            solara.Button(f"Replay to day {replay.days}", small=True, color="primary",
                          on_click=on_replay, disabled=busy, classes=["lc-replay-run"])
        if check:
            solara.Info(check, dense=True, classes=["lc-replay-check"])


@solara.component
def SpeedCard(interval_ms: solara.Reactive[int], days_per_frame: solara.Reactive[int]):
    """How fast Play goes."""
    with solara.Card("Play speed", margin=0):
        with solara.Div(classes=["lc-pause"]):
            solara.SliderInt("Pause between frames (ms)", value=interval_ms, min=0, max=2000,
                             step=50)
        solara.SliderInt("Days per frame", value=days_per_frame, min=1, max=30)
