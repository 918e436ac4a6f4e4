"""One run the page shows: a model, its settings, its daily series from day 0, a baseline twin.

The model's DataCollector records a row at the end of each day, so its first row is day 1;
the page keeps the metrics of the freshly built model as day 0 (:attr:`Run.day0`), so every
plot and the CSV start at day 0 and day ``d`` is drawn at ``x = d``.

"Compare with baseline" builds a *twin*: the same scenario and seed with every policy removed
(:func:`viz.levers.without_policies`). It has the same city and residents (common random
numbers) and is stepped with the run, so the page can draw its curves and a map of the
difference, run minus twin.

A run has one lock: stepping and drawing take it, so a frame never shows a model half-way
through a day.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from model import METRIC_NAMES, CommerceModel

from .levers import Settings, build_model, without_policies


def metrics_frame(day0: dict[str, float], model: CommerceModel) -> pd.DataFrame:
    """Daily metrics from day 0 to today: column ``day`` then ``model.METRIC_NAMES``."""
    rows = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    first = pd.DataFrame([{name: day0[name] for name in METRIC_NAMES}])
    frame = pd.concat([first, rows[list(METRIC_NAMES)]], ignore_index=True)
    frame.insert(0, "day", np.arange(len(frame)))
    return frame


@dataclass
class Run:
    """A model the page shows and what the page keeps about it.

    Attributes:
        model: the model.
        settings: what it was built from.
        day0: its metrics when built (day 0).
        twin: the same seed without policies, when comparing; twin_day0: its day 0.
        origin: where the run came from, for people ("experiment policy_comparison, run
            mobile_vendors__pref__r000"), or "".
        lock: held while stepping or drawing.
    """

    model: CommerceModel
    settings: Settings
    day0: dict[str, float]
    twin: CommerceModel | None = None
    twin_day0: dict[str, float] | None = None
    origin: str = ""
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def build(cls, settings: Settings, origin: str = "") -> Run:
        """Build the model of ``settings``."""
        model = build_model(settings)
        return cls(model=model, settings=settings, day0=model.metrics(), origin=origin)

    @property
    def day(self) -> int:
        """Days simulated."""
        return self.model.day

    def step(self, days: int = 1) -> None:
        """Advance the model (and its twin) ``days`` days."""
        with self.lock:
            for _ in range(days):
                self.model.step()
                if self.twin is not None:
                    self.twin.step()
                if not self.model.running:
                    break

    def start_twin(self) -> None:
        """Build the baseline twin and bring it to the run's day."""
        twin = CommerceModel(scenario=without_policies(self.model.config),
                             rng=int(self.settings.seed))
        twin_day0 = twin.metrics()
        with self.lock:
            while twin.day < self.model.day:
                twin.step()
            self.twin, self.twin_day0 = twin, twin_day0

    def stop_twin(self) -> None:
        """Drop the baseline twin."""
        with self.lock:
            self.twin, self.twin_day0 = None, None

    def frame(self) -> pd.DataFrame:
        """The run's daily metrics from day 0 (see :func:`metrics_frame`)."""
        with self.lock:
            return metrics_frame(self.day0, self.model)

    def twin_frame(self) -> pd.DataFrame | None:
        """The twin's daily metrics from day 0, or None without a twin."""
        with self.lock:
            if self.twin is None or self.twin_day0 is None:
                return None
            return metrics_frame(self.twin_day0, self.twin)

    def csv(self) -> bytes:
        """The daily series as CSV (floats written exactly: they read back bit for bit)."""
        return self.frame().to_csv(index=False, float_format=None).encode("utf-8")

    def csv_name(self) -> str:
        """A file name for the CSV: scenario, seed and day."""
        safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in self.model.config.name)
        return f"lifecircle_{safe}_seed{self.settings.seed}_day{self.day}.csv"


@dataclass(frozen=True)
class Pin:
    """A run's daily series kept as grey reference lines after Reset."""

    label: str
    frame: pd.DataFrame = field(compare=False)


def pin_of(run: Run) -> Pin:
    """Pin ``run`` as it is now."""
    label = f"{run.model.config.name}, seed {run.settings.seed}, to day {run.day}"
    return Pin(label=label, frame=run.frame())
