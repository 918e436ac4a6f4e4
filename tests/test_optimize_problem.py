"""Problem files of `lifecircle optimize`: refused before anything runs; statistics and bounds."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from experiments.optimize.levers import Lever, apply_mix, canonical_mix
from experiments.optimize.objectives import Bound, Statistic, summary_names
from experiments.optimize.problem import load_problem
from lifecircle.cli import main
from model import load_scenario

GOOD = """
name = "p"
scenario = "baseline"
replicates = 2
days = 20
warmup = 5
evaluations = 4
population = 2
holdout_replicates = 0

[settings]
communities_x = 2
communities_y = 2

[levers."policy.mobile_vendors.n_buses"]
type = "integer"
low = 0
high = 2

[levers."policy.elderly_canteen"]
type = "switch"

[levers."policy.elderly_canteen.placement"]
type = "choice"
values = ["greedy", "mclp"]

[objectives.surplus_yuan]
sense = "max"

[objectives.public_spend_per_year]
sense = "min"

[constraints]
budget_per_year = 500000.0

[[constraints.bounds]]
metric = "coverage_basic_all_elderly"
min = "baseline"
"""


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "problem.toml"
    f.write_text(text)
    return f


def test_a_valid_problem_loads_with_its_levers_objectives_and_constraints(tmp_path):
    p = load_problem(_write(tmp_path, GOOD))
    assert [lv.name for lv in p.levers] == ["policy.mobile_vendors.n_buses",
                                            "policy.elderly_canteen",
                                            "policy.elderly_canteen.placement"]
    assert [o.metric for o in p.objectives] == ["surplus_yuan", "public_spend_per_year"]
    assert p.budget == 500000.0 and p.bounds[1].low == "baseline"
    assert len(p.seeds) == 2 and p.budget_levels == (125000.0, 250000.0, 500000.0)


def test_dry_run_checks_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["optimize", str(_write(tmp_path, GOOD)), "--out", str(out), "--dry-run"]) == 0
    assert "valid" in capsys.readouterr().out
    assert not out.exists()


BAD = [
    ("unknown top key", GOOD.replace("replicates = 2", "replicate = 2"), "replicate"),
    ("warm-up too long", GOOD.replace("warmup = 5", "warmup = 20"), "warmup"),
    ("no levers", GOOD.split("[levers")[0] + GOOD.split('values = ["greedy", "mclp"]')[1],
     "levers"),
    ("unknown policy kind", GOOD.replace("policy.elderly_canteen\"]", "policy.elderly_cantine\"]"),
     "elderly_cantine"),
    ("unknown policy parameter", GOOD.replace("n_buses", "n_busses"), "n_busses"),
    ("integer range beyond the parameter's", GOOD.replace("high = 2", "high = 501"), "high"),
    ("high not above low", GOOD.replace("high = 2", "high = 0"), "high"),
    ("type that does not fit", GOOD.replace('type = "integer"', 'type = "switch"'), "type"),
    ("choice value not allowed", GOOD.replace('"mclp"]', '"best"]'), "values"),
    ("unknown metric", GOOD.replace("[objectives.surplus_yuan]", "[objectives.surplus]"),
     "surplus"),
    ("bad statistic", GOOD.replace('sense = "max"', 'sense = "max"\nstat = "average"'), "stat"),
    ("bad sense", GOOD.replace('sense = "max"', 'sense = "up"'), "sense"),
    ("negative budget", GOOD.replace("500000.0", "-1.0"), "budget_per_year"),
    ("bound without limits", GOOD.replace('min = "baseline"', ""), "min"),
    ("bound limit not a number", GOOD.replace('min = "baseline"', 'min = "base"'), "min"),
    ("missing scenario", GOOD.replace('scenario = "baseline"', 'scenario = "nowhere"'),
     "scenario"),
    ("more canteens than the city holds",
     GOOD + '\n[levers."policy.elderly_canteen.n_canteens"]\ntype = "integer"\nlow = 0\n'
            "high = 900\n", "n_canteens\".high"),
    ("settings on a lever that is not a switch",
     GOOD.replace("high = 2\n", "high = 2\nsettings = { start_day = 3 }\n", 1), "settings"),
    ("unknown parameter in a switch's settings",
     GOOD.replace('[levers."policy.elderly_canteen"]\ntype = "switch"',
                  '[levers."policy.elderly_canteen"]\ntype = "switch"\n'
                  "settings = { start_dya = 3 }"), "start_dya"),
    ("a switch's setting out of range",
     GOOD.replace('[levers."policy.elderly_canteen"]\ntype = "switch"',
                  '[levers."policy.elderly_canteen"]\ntype = "switch"\n'
                  "settings = { capacity = -5.0 }"), "capacity"),
    ("not TOML", "name = [", ""),
]


@pytest.mark.parametrize(("case", "text", "key"), BAD, ids=[b[0] for b in BAD])
def test_bad_problem_files_are_refused_before_anything_runs(tmp_path, capsys, case, text, key):
    out = tmp_path / "out"
    code = main(["optimize", str(_write(tmp_path, text)), "--out", str(out), "--workers", "0"])
    err = capsys.readouterr().err.strip()
    assert code == 2, case
    assert err.startswith("error:") and len(err.splitlines()) == 1
    assert "problem.toml" in err and key in err
    assert not out.exists()


def test_statistics_over_seeds():
    v = [1.0, 2.0, 3.0, 10.0]
    assert Statistic("mean")(v) == 4.0
    assert Statistic("median")(v) == 2.5
    assert Statistic("min")(v) == 1.0 and Statistic("max")(v) == 10.0
    assert Statistic("percentile", 10)(v) == pytest.approx(1.3)
    assert math.isnan(Statistic("mean")([1.0, math.nan]))


def test_bounds_are_met_at_or_below_zero():
    budget = Bound("public_spend_per_year", high=100.0)
    assert budget.violation(100.0) == 0.0 and budget.violation(50.0) < 0
    assert budget.violation(150.0) == pytest.approx(0.5)
    at_least_base = Bound("coverage_basic_all_elderly", low="baseline")
    assert at_least_base.violation(0.4, baseline_value=0.4) == 0.0
    assert at_least_base.violation(0.3, baseline_value=0.4) > 0
    assert at_least_base.violation(math.nan, baseline_value=0.4) > 0


def test_objectives_may_be_any_summary_name():
    names = summary_names()
    assert {"surplus_yuan", "public_spend_per_year", "coverage_basic_all_elderly",
            "spend_mobile_vendors_per_year"} <= set(names)


def test_a_policy_switched_off_is_dropped_and_its_parameters_do_not_matter():
    base = load_scenario("baseline").with_policy("elderly_canteen")
    levers = (Lever("policy.elderly_canteen", "switch"),
              Lever("policy.elderly_canteen.n_canteens", "integer", 0, 5))
    off_a = canonical_mix(levers, {"policy.elderly_canteen": False,
                                   "policy.elderly_canteen.n_canteens": 1})
    off_b = canonical_mix(levers, {"policy.elderly_canteen": False,
                                   "policy.elderly_canteen.n_canteens": 4})
    assert off_a == off_b and off_a["policy.elderly_canteen.n_canteens"] is None
    assert apply_mix(base, levers, off_a).policies == ()
    on = apply_mix(base, levers, {"policy.elderly_canteen": True,
                                  "policy.elderly_canteen.n_canteens": 3})
    assert on.policies[0]["params"]["n_canteens"] == 3


def test_a_switch_adds_its_policy_with_its_settings_and_the_base_stays_without_it(tmp_path):
    text = GOOD.replace('[levers."policy.elderly_canteen"]\ntype = "switch"',
                        '[levers."policy.elderly_canteen"]\ntype = "switch"\n'
                        "settings = { start_day = 7, n_canteens = 1 }")
    problem = load_problem(_write(tmp_path, text))
    switch = next(lv for lv in problem.levers if lv.name == "policy.elderly_canteen")
    assert dict(switch.settings) == {"start_day": 7, "n_canteens": 1}
    assert not any(p["kind"] == "elderly_canteen" for p in problem.base.policies)
    mix = {lv.name: lv.corner(True) for lv in problem.levers}
    mix.pop("policy.elderly_canteen.placement")
    levers = tuple(lv for lv in problem.levers if lv.name != "policy.elderly_canteen.placement")
    canteen = [p for p in apply_mix(problem.base, levers, mix).policies
               if p["kind"] == "elderly_canteen"]
    assert canteen[0]["params"]["start_day"] == 7 and canteen[0]["params"]["n_canteens"] == 1
    # a parameter lever of the same policy wins over the switch's settings
    count = Lever("policy.elderly_canteen.n_canteens", "integer", 0, 3)
    both = apply_mix(problem.base, (count, switch),
                     {"policy.elderly_canteen": True, "policy.elderly_canteen.n_canteens": 3})
    assert both.policies[-1]["params"]["n_canteens"] == 3
    assert both.policies[-1]["params"]["start_day"] == 7


def test_a_switch_may_not_give_settings_for_a_policy_the_base_has(tmp_path, capsys):
    text = (GOOD.replace('scenario = "baseline"', 'scenario = "elderly_canteen"')
            .replace('[levers."policy.elderly_canteen"]\ntype = "switch"',
                     '[levers."policy.elderly_canteen"]\ntype = "switch"\n'
                     "settings = { start_day = 7 }"))
    code = main(["optimize", str(_write(tmp_path, text)), "--dry-run"])
    err = capsys.readouterr().err
    assert code == 2 and "settings" in err and "already has this policy" in err


def test_lever_values_from_the_optimiser_become_plain_values():
    share = Lever("policy.rent_subsidy.share", "real", 0.0, 0.4, step=0.05)
    assert share.clean(0.1234) == 0.1 and share.clean(0.39) == 0.4 and share.clean(0.5) == 0.4
    n = Lever("policy.mobile_vendors.n_buses", "integer", 0, 3)
    assert n.clean(2.0) == 2 and isinstance(n.clean(2.0), int)
    assert Lever("policy.elderly_canteen", "switch").clean(1) is True
    assert (n.corner(False), n.corner(True)) == (0, 3)
