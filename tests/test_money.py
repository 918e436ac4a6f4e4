"""Public money is counted once, paced inside its budget, and independent of the order of policies.

* the ledger is the sum of what each policy paid; residents' payments plus policy discounts
  equal providers' revenue plus delivery fees;
* no shop's rent is paid twice: where policies' shares overlap they are scaled down, and each
  policy books exactly its part;
* any order of the same policies in a scenario file gives identical days and ledger;
* every budgeted policy's spending over any budget year is at most its budget, spread over
  the year, and the effective share is reported;
* every policy at zero intensity gives the baseline, bit for bit.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import CommerceModel, load_scenario, simulate
from model.policies import POLICY_KINDS

from .conftest import SMALL


def test_ledger_equals_what_each_policy_paid_and_money_balances():
    m = CommerceModel(scenario=load_scenario("combined", SMALL), rng=9)
    daily = dict.fromkeys(m.policy_labels, 0.0)
    for _ in range(95):
        m.step()
        rec = m.today
        for label, spent in rec.spend_by_policy.items():
            assert spent >= 0
            daily[label] += spent
        assert m.metrics()["public_spend"] == pytest.approx(sum(m.ledger.values()))
        for kind in m.policy_kinds:
            mine = [lab for lab, p in zip(m.policy_labels, m.policies, strict=True) if p.kind == kind]
            assert m.metrics()[f"spend_{kind}"] == pytest.approx(sum(m.ledger[lab] for lab in mine))
        # residents' payments for goods plus the meal discounts the canteen policy pays equal
        # the providers' revenue
        canteen = m.policies[m.policy_labels.index("elderly_canteen")]
        goods_paid = rec.resident_paid.sum() - rec.delivery_fees.sum()
        assert goods_paid + canteen._meal_subsidy == pytest.approx(rec.offer_revenue.sum())
    assert m.ledger == pytest.approx(daily)
    assert all(v > 0 for k, v in m.ledger.items() if k != "instant_retail"), m.ledger


OVERLAP = {**SMALL, "policy.rent_subsidy.share": 0.8, "policy.rent_subsidy.tier": "all",
           "policy.rent_subsidy.budget_per_year": 1e9, "policy.fill_gaps.relief_share": 0.6,
           "policy.fill_gaps.period_days": 20}


def test_no_shops_rent_is_paid_twice():
    m = CommerceModel(scenario=load_scenario("combined", OVERLAP), rng=4)
    overlapped = 0
    for _ in range(80):
        m.step()
        rec, shops = m.today, m.supply.shops
        n = len(shops)
        rent = shops.rent_day
        offered = {lab: pol.rent_shares(m) for lab, pol in zip(m.policy_labels, m.policies, strict=True)}
        offered = {lab: s for lab, s in offered.items() if s is not None}
        total = sum(offered.values()) if offered else np.zeros(n)
        was_open = shops.open.copy()  # open at the accounts: open now or closed today, not
        was_open[rec.closed] = True  # opened at today's entry (they get no share today)
        was_open[rec.opened] = False
        # all the relief booked today is the rent of open shops times min(1, sum of shares)
        booked = sum(rec.relief_paid.values())
        assert booked == pytest.approx((rent * np.minimum(total, 1.0))[was_open].sum())
        assert booked <= rent[was_open].sum() + 1e-6
        # each policy booked its share, scaled down where the shares overlap beyond the rent
        scale = np.where(total > 1, 1 / np.maximum(total, 1e-300), 1.0)
        for lab, share in offered.items():
            assert rec.relief_paid[lab] == pytest.approx((rent * share * scale)[was_open].sum())
        overlapped += int((total > 1).sum())
    assert overlapped > 0  # the rule for overlaps was exercised
    # canteens' rent is the canteen policy's alone; the rent subsidy never touches it
    can = m.policies[m.policy_labels.index("elderly_canteen")]
    sub = m.policies[m.policy_labels.index("rent_subsidy")]
    assert np.all(sub.rent_shares(m)[can.shop_ids] == 0)


LEVERS_PACKAGE = ["home_care", "multi_function_stores", "smart_platform", "instant_retail",
                  "elderly_canteen", "rent_subsidy"]


@pytest.mark.parametrize("package", ["combined", "levers"])
def test_any_order_of_the_same_policies_gives_identical_days_and_ledger(tmp_path, package):
    world = ""
    if package == "combined":
        specs = list(load_scenario("combined").policies)
    else:  # issue 15's levers with policies they share money, offers or residents with
        specs = [spec for kind in LEVERS_PACKAGE for spec in load_scenario(kind).policies]
        world = "consideration_sets = true\n"
    forward = "\n".join(_policy_table(p) for p in specs)
    backward = "\n".join(_policy_table(p) for p in reversed(specs))
    (tmp_path / "forward.toml").write_text(f'extends = "baseline"\n{world}{forward}')
    (tmp_path / "backward.toml").write_text(f'extends = "baseline"\n{world}{backward}')
    a = CommerceModel(scenario=tmp_path / "forward.toml", rng=3, **SMALL)
    b = CommerceModel(scenario=tmp_path / "backward.toml", rng=3, **SMALL)
    a.run_for(70)
    b.run_for(70)
    pd.testing.assert_frame_equal(a.datacollector.get_model_vars_dataframe(),
                                  b.datacollector.get_model_vars_dataframe())
    assert a.ledger == b.ledger
    assert a.policy_labels == b.policy_labels


def _policy_table(spec: dict) -> str:
    lines = ["[[policy]]", f'kind = "{spec["kind"]}"']
    for key, value in spec["params"].items():
        if value is None:
            continue
        lines.append(f"{key} = {value!r}".replace("'", '"').replace("True", "true")
                     .replace("False", "false"))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("kind", "params"), [
    ("rent_subsidy", {"share": 0.5, "budget_per_year": 150_000.0}),
    ("fill_gaps", {"per_round": 3, "period_days": 30, "grant_yuan": 30_000.0,
                   "budget_per_year": 200_000.0}),
    ("chain_penetration", {"grant_per_conversion": 40_000.0, "grant_per_chain_entry": 40_000.0,
                           "conversion_per_month": 0.2, "budget_per_year": 150_000.0}),
    ("multi_function_stores", {"approach_share": 0.3, "grant_per_service": 30_000.0,
                               "budget_per_year": 200_000.0})])
def test_every_budgeted_policy_stays_within_its_budget_each_year(kind, params):
    sc = load_scenario(kind, {**SMALL, **{f"policy.{kind}.{k}": v for k, v in params.items()}})
    m = CommerceModel(scenario=sc, rng=6)
    days = []
    for _ in range(420):
        m.step()
        days.append(m.today.spend_by_policy[kind])
    budget = params["budget_per_year"]
    year1, year2 = sum(days[:365]), sum(days[365:])
    assert year1 <= budget * (1 + 1e-9) and year2 <= budget * (1 + 1e-9)
    assert year1 > 0.5 * budget  # the budget is used
    if kind == "rent_subsidy":
        # paced over the year: money is still spent in the last month of the budget year
        assert sum(days[330:365]) > 0
        share = m.metrics()["rent_subsidy_share"]
        assert 0 < share < params["share"]  # the budget binds: the effective share is lower
        assert share == pytest.approx(m.policies[0].effective_share)


def test_the_rent_subsidy_no_longer_runs_out_in_spring():
    m = CommerceModel(scenario=load_scenario("rent_subsidy", SMALL), rng=2)
    monthly = np.zeros(12)
    for _ in range(360):
        m.step()
        monthly[(m.day - 1) // 30] += m.today.spend_by_policy["rent_subsidy"]
    assert np.all(monthly > 0)
    assert monthly.max() < 2.5 * monthly.min()  # spread over the year, not spent by March


ZERO = {
    "mobile_vendors": {"n_buses": 0},
    "rent_subsidy": {"share": 0.0},
    "elderly_canteen": {"n_canteens": 0},
    "instant_retail": {"uptake": 0.0},
    "fill_gaps": {"per_round": 0},
    "idle_space": {"n_spaces": 0},
    "neighborhood_center": {"n_centers": 0},
    "chain_penetration": {"entry_boost": 1.0, "conversion_per_month": 0.0,
                          "grant_per_chain_entry": 0.0},
    "home_care": {"n_providers": 0},
    "multi_function_stores": {"approach_share": 0.0},
    "smart_platform": {"join_share": 0.0, "operating_cost_per_year": 0.0},
}
# the world a policy's scenario is set in, and so its baseline (the platform's: residents who
# know only part of the shops, scenarios/partial_knowledge.toml)
WORLD = {"smart_platform": {"consideration_sets": True}}
DESCRIBES_THE_POLICY = ["rent_subsidy_share"]  # what the policy is set to, not what it did


@pytest.mark.parametrize("kind", sorted(ZERO))
def test_a_policy_at_zero_intensity_gives_the_baseline_bit_for_bit(kind):
    over = {f"policy.{kind}.{k}": v for k, v in ZERO[kind].items()}
    world = WORLD.get(kind, {})
    base = simulate("baseline", seed=12, days=65, overrides={**SMALL, **world})
    zero = simulate(kind, seed=12, days=65, overrides={**SMALL, **world, **over})
    pd.testing.assert_frame_equal(base.drop(columns=DESCRIBES_THE_POLICY),
                                  zero.drop(columns=DESCRIBES_THE_POLICY), check_exact=True)
    assert zero["public_spend"].max() == 0.0


def _toml(v: object) -> str:
    return str(v).lower() if isinstance(v, bool) else f"{v:g}"


def test_odd_names_every_policys_zero_setting_as_this_test_uses_it():
    """docs/ODD.md's "Zero intensity" paragraph lists exactly the settings tested above."""
    assert set(ZERO) == set(POLICY_KINDS)  # every policy has its zero setting tested
    odd = (Path(__file__).resolve().parent.parent / "docs" / "ODD.md").read_text("utf-8")
    para = odd.split("*Zero intensity.*", 1)[1].split("\n\n", 1)[0]
    para = " ".join(para.split())
    # the paragraph names each kind as `kind`: followed by its settings
    named = re.findall(r"`([a-z_]+)`:", para)
    assert named == [k for k in named if k in POLICY_KINDS] and sorted(named) == sorted(ZERO)
    for i, kind in enumerate(named):
        start = para.index(f"`{kind}`:")
        end = para.index(f"`{named[i + 1]}`:") if i + 1 < len(named) else len(para)
        part = para[start:end]
        settings = {**ZERO[kind], **WORLD.get(kind, {})}
        for key, value in settings.items():
            assert f"`{key} = {_toml(value)}`" in part, (kind, key, part)
        assert len(re.findall(r"`\w+ = [^`]+`", part)) == len(settings), part
