"""The choice kernel against a per-agent reference, and walking distances against BFS.

* (a) over many draws the kernel's choice shares match the reference's logit probabilities
  (chi-square), and the same test rejects a deliberately wrong probability vector;
* (b) with the same uniforms the kernel and the reference pick the same offer for every need
  of real model days;
* (c) the home-to-site walking distances equal an independent breadth-first search and
  scipy's shortest paths, respect the cut-off, and gated new communities lengthen walks.
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import shortest_path
from scipy.stats import chisquare

import model.model as model_module
from model import CommerceModel
from model.choice import run_choice
from model.city import NEW, OLD
from model.population import ELDERLY, ELDERLY80
from model.reference import ReferenceChooser, reference_choose, reference_probabilities
from model.supply import SRC_ONLINE

from .conftest import SMALL

DRAWS = 20_000
P_MIN = 0.001


def _enrich(m: CommerceModel) -> None:
    """Give the offers every feature the rule has: discounts, free age, online, closed today.

    Two online offers (convenience, parcel, with a delivery fee) reach every home with no walk;
    residents who adopt online ordering order online.
    """
    offers = m.supply.offers
    n = len(offers)
    offers.discount60[np.arange(0, n, 4)] = 0.2
    offers.free_age[np.arange(1, n, 7)] = 75.0
    offers.today[np.arange(2, n, 11)] = False
    n_homes = len(m.city.home_xy)
    online = m.supply.add_offers(shop=np.array([-1, -1]), site=np.array([0, 0]),
                                 category=np.array([0, 5]), price=np.array([1.05, 1.1]),
                                 quality=np.array([0.7, 0.65]), capacity=np.array([1e6, 1e6]),
                                 source=SRC_ONLINE, online=True, fee=0.08)
    m.orders_online = m.population.digital.copy()
    homes = np.tile(np.arange(n_homes), 2)
    m.extra_candidates["test_online"] = (homes, np.repeat(online, n_homes),
                                         np.zeros(2 * n_homes, dtype=np.float32))
    m.candidates = m._build_index()


@pytest.fixture(scope="module")
def rich_model() -> CommerceModel:
    """A 2 x 2 city after three days, with discounts, free age, online and closed offers."""
    m = CommerceModel(rng=3, **SMALL)
    for _ in range(3):
        m.step()
    _enrich(m)
    assert (m.supply.offers.load > 0).any()  # crowding is in play
    return m


def pooled_chisquare(counts: np.ndarray, probs: np.ndarray, min_expected: float = 5.0) -> float:
    """Chi-square goodness-of-fit p-value, pooling cells expected below ``min_expected``.

    Cells are pooled from the smallest expected count up until the pool reaches
    ``min_expected``; a pool still too small joins the smallest remaining cell.
    """
    counts = np.asarray(counts, dtype=float)
    expected = np.asarray(probs, dtype=float) * counts.sum()
    order = np.argsort(expected)
    cells_o: list[float] = []
    cells_e: list[float] = []
    pool_o = pool_e = 0.0
    for i in order:
        if pool_e < min_expected and expected[i] < min_expected:
            pool_o += counts[i]
            pool_e += expected[i]
            continue
        cells_o.append(counts[i])
        cells_e.append(expected[i])
    if pool_e > 0 or pool_o > 0:
        if pool_e >= min_expected or not cells_e:
            cells_o.append(pool_o)
            cells_e.append(pool_e)
        else:  # the pool of tiny cells joins the smallest proper cell
            cells_o[0] += pool_o
            cells_e[0] += pool_e
    if len(cells_e) < 2:
        return 1.0
    f_exp = np.array(cells_e)
    f_exp *= counts.sum() / f_exp.sum()
    return float(chisquare(np.array(cells_o), f_exp).pvalue)


def _kernel_counts(m: CommerceModel, r: int, k: int, options: list[int],
                   rng: np.random.Generator) -> np.ndarray:
    """Counts of [outside, options...] over DRAWS kernel choices for need (r, k)."""
    need_res = np.full(DRAWS, r, dtype=np.int64)
    need_cat = np.full(DRAWS, k, dtype=np.int16)
    chosen = run_choice(m, need_res, need_cat, rng.random(DRAWS))[0]
    position = {o: i + 1 for i, o in enumerate(options)}
    position[-1] = 0
    picked = set(np.unique(chosen).tolist())
    assert picked <= set(position), f"kernel chose offers the reference rules out: {picked - set(position)}"
    return np.bincount([position[o] for o in chosen.tolist()], minlength=len(options) + 1)


def _cases(m: CommerceModel) -> list[tuple[int, int]]:
    """Needs (resident, category) across the four groups, three income bands, old and new."""
    pop = m.population
    idx = m.present_idx
    pick = np.random.default_rng(5)
    cases = []
    cats = [0, 1, 2, 5, 8, 12]  # convenience, fresh food, breakfast, parcel, canteen, dining
    for n, (g, inc) in enumerate([(0, 0), (0, 2), (1, 1), (2, 0), (2, 1), (3, 0), (3, 2),
                                  (1, 2)]):
        members = idx[(pop.group[idx] == g) & (pop.income[idx] == inc)]
        cases.append((int(pick.choice(members)), cats[n % len(cats)]))
    # a non-digital elderly and a digital one, for the online offer of parcels
    eld = idx[np.isin(pop.group[idx], (ELDERLY, ELDERLY80))]
    cases.append((int(eld[~m.orders_online[eld]][0]), 5))
    cases.append((int(eld[m.orders_online[eld]][0]), 5))
    return cases


def test_kernel_shares_match_reference_logit(rich_model):
    m = rich_model
    rng = np.random.default_rng(20240601)
    wrong = ReferenceChooser(m, params=dataclasses.replace(
        m.params, beta_walk_per_min=0.0, beta_late_per_min=0.0))
    online = set(np.flatnonzero(m.supply.offers.online).tolist())
    seen_online = {True: False, False: False}
    for r, k in _cases(m):
        offers, probs, p_out = reference_probabilities(m, r, k)
        assert len(offers) >= 3
        assert abs(p_out + sum(probs) - 1.0) < 1e-12
        has_online = bool(online & set(offers))
        if k == 5:
            assert has_online == bool(m.orders_online[r])  # online only for those who order online
            seen_online[has_online] = True
        counts = _kernel_counts(m, r, k, offers, rng)
        p_right = pooled_chisquare(counts, [p_out, *probs])
        assert p_right > P_MIN, (r, k, counts, p_right)
        # the same test must be able to fail: walking time ignored
        w_offers, w_probs, w_out = wrong.probabilities(r, k)
        assert w_offers == offers
        p_wrong = pooled_chisquare(counts, [w_out, *w_probs])
        assert p_wrong < 1e-6, (r, k, p_wrong)
    assert all(seen_online.values())


def test_chisquare_detects_small_shift():
    """The pooled test has power: a 2-point shift between two cells is rejected at N=20,000."""
    rng = np.random.default_rng(1)
    probs = np.array([0.1, 0.3, 0.3, 0.2, 0.099, 0.001])
    counts = np.bincount(rng.choice(6, size=DRAWS, p=probs), minlength=6)
    assert pooled_chisquare(counts, probs) > P_MIN
    shifted = probs + np.array([0, 0.02, -0.02, 0, 0, 0])
    assert pooled_chisquare(counts, shifted) < P_MIN


def test_reference_follows_documented_formula(rich_model):
    """log(p_j / p_outside) equals the docstring's utility, price rules included (numpy)."""
    m = rich_model
    p, offers, pop, idx = m.params, m.supply.offers, m.population, m.present_idx
    K = m.categories.k
    ages = pop.age[idx]
    picks = [idx[ages < 60][0], idx[(ages >= 60) & (ages < 75)][0], idx[ages >= 80][0]]
    seen_free = seen_discount = False
    for r in (int(x) for x in picks):
        for k in (0, 1, 5):
            row = slice(m.candidates.ptr[pop.home[r] * K + k], m.candidates.ptr[pop.home[r] * K + k + 1])
            o, walk = m.candidates.offer[row], m.candidates.walk_m[row].astype(float)
            keep = offers.today[o] & (~offers.online[o] | m.orders_online[r])
            o, walk = o[keep], walk[keep]
            price = offers.price[o].copy()
            free = (offers.free_age[o] > 0) & (pop.age[r] >= offers.free_age[o])
            disc = ~free & (pop.age[r] >= 60)
            price[free] = 0.0
            price[disc] *= 1.0 - offers.discount60[o][disc]
            price += offers.fee[o]
            seen_free |= bool(free.any())
            seen_discount |= bool((disc & (offers.discount60[o] > 0)).any())
            t = walk / (float(pop.speed_mps[r]) * 60.0)
            crowd = offers.load[o] / offers.capacity[o]
            v = (p.beta_quality * offers.quality[o] - m.beta_price[pop.income[r]] * (price - 1.0)
                 - p.beta_walk_per_min * t - p.beta_late_per_min * np.maximum(0.0, t - p.reach_minutes)
                 - p.beta_crowding * crowd**2)
            got_o, got_p, got_out = reference_probabilities(m, r, k)
            assert got_o == o.tolist()
            assert np.allclose(np.log(np.array(got_p) / got_out),
                               v - m.categories.outside_utility[k], atol=1e-9)
    assert seen_free and seen_discount


def test_kernel_and_reference_pick_identical_offers(monkeypatch):
    """Every need of real days: same uniforms, same state -> the same offer."""
    m = CommerceModel(rng=3, **SMALL)
    m.step()
    _enrich(m)
    log: list[tuple[np.ndarray, np.ndarray]] = []

    def checked(model, need_res, need_cat, uniforms):
        ref = reference_choose(model, need_res, need_cat, uniforms)
        out = run_choice(model, need_res, need_cat, uniforms)
        log.append((ref, out[0]))
        return out

    monkeypatch.setattr(model_module, "run_choice", checked)
    for _ in range(3):
        m.step()
    assert len(log) == 3
    total = 0
    for ref, kernel in log:
        assert len(ref) > 5_000
        mismatch = np.flatnonzero(ref != kernel)
        assert len(mismatch) == 0, (len(mismatch), ref[mismatch[:5]], kernel[mismatch[:5]])
        total += len(ref)
        assert 0.02 < (kernel == -1).mean() < 0.5
    online = np.flatnonzero(m.supply.offers.online)
    assert np.isin(log[-1][1], online).any()  # online offers were chosen too
    assert total > 15_000


def test_reference_candidates_equal_index(rich_model):
    """The reference's own reachable sets equal the CandidateIndex rows (open offers)."""
    m = rich_model
    ch = ReferenceChooser(m)
    idx, offers, K = m.candidates, m.supply.offers, m.categories.k
    for h in np.random.default_rng(2).choice(len(m.city.home_xy), size=60, replace=False):
        for k in range(K):
            a, b = idx.ptr[h * K + k], idx.ptr[h * K + k + 1]
            row = [(int(o), float(w)) for o, w in zip(idx.offer[a:b], idx.walk_m[a:b], strict=True)
                   if offers.open[o]]
            assert row == ch.reachable_from_home(int(h), k)


# --- (c) walking distances -------------------------------------------------------------------

def _bfs_steps(walkable: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """4-neighbour breadth-first steps from ``start`` over walkable cells (-1: unreachable)."""
    w, h = walkable.shape
    steps = np.full((w, h), -1, dtype=np.int64)
    steps[start] = 0
    queue = deque([start])
    while queue:
        x, y = queue.popleft()
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if 0 <= nx < w and 0 <= ny < h and walkable[nx, ny] and steps[nx, ny] < 0:
                steps[nx, ny] = steps[x, y] + 1
                queue.append((nx, ny))
    return steps


def _site_pairs(sup, s: int) -> dict[int, float]:
    a, b = sup.site_ptr[s], sup.site_ptr[s + 1]
    assert np.all(sup.pair_site[a:b] == s)
    return dict(zip(sup.pair_home[a:b].tolist(), sup.pair_dist[a:b].tolist(), strict=True))


@pytest.mark.parametrize("cutoff", [500.0, 1800.0])
def test_pair_distances_equal_bfs(cutoff):
    m = CommerceModel(rng=4, communities_x=3, communities_y=3, walk_cutoff_m=cutoff)
    city, sup = m.city, m.supply
    size = city.cell_size_m
    rng = np.random.default_rng(3)
    n_beyond = 0
    for s in rng.choice(len(sup.site_xy), size=25, replace=False).tolist():
        steps = _bfs_steps(city.walkable, tuple(sup.site_xy[s]))
        home_steps = steps[city.home_xy[:, 0], city.home_xy[:, 1]]
        metres = home_steps * size
        within = (home_steps >= 0) & (metres <= cutoff)
        pairs = _site_pairs(sup, s)
        # every home within the cut-off is present, with its BFS distance ...
        expected = {int(h): float(metres[h]) for h in np.flatnonzero(within)}
        assert pairs == pytest.approx(expected)
        # ... and no home beyond it
        assert set(pairs) == set(expected)
        n_beyond += int((~within).sum())
        # random home cells: the pair exists iff BFS says within, at the BFS distance
        for h in rng.choice(len(city.home_xy), size=40, replace=False).tolist():
            if within[h]:
                assert pairs[h] == pytest.approx(metres[h])
            else:
                assert h not in pairs
    if cutoff < 1000:
        assert n_beyond > 0  # the cut-off is binding in this city


def test_pair_distances_equal_scipy_shortest_path():
    m = CommerceModel(rng=5, **SMALL, walk_cutoff_m=700.0)
    city, sup = m.city, m.supply
    w, h = city.walkable.shape
    cell_id = np.arange(w * h).reshape(w, h)
    rows, cols = [], []
    for dx, dy in ((1, 0), (0, 1)):
        a = city.walkable[: w - dx, : h - dy] & city.walkable[dx:, dy:]
        rows.append(cell_id[: w - dx, : h - dy][a])
        cols.append(cell_id[dx:, dy:][a])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = sparse.coo_matrix((np.full(len(r), city.cell_size_m), (r, c)), shape=(w * h, w * h))
    src = cell_id[sup.site_xy[:, 0], sup.site_xy[:, 1]]
    dist = shortest_path(graph.tocsr(), method="D", directed=False, indices=src)
    home_cells = cell_id[city.home_xy[:, 0], city.home_xy[:, 1]]
    for s in range(len(sup.site_xy)):
        d = dist[s, home_cells]
        within = np.flatnonzero(d <= m.params.walk_cutoff_m + 1e-6)
        pairs = _site_pairs(sup, s)
        assert sorted(pairs) == within.tolist()
        assert np.allclose([pairs[i] for i in within.tolist()], d[within])


def test_gated_communities_lengthen_walks():
    m = CommerceModel(rng=6, communities_x=3, communities_y=3)
    city, sup = m.city, m.supply
    hxy = city.home_xy[sup.pair_home].astype(float)
    sxy = sup.site_xy[sup.pair_site].astype(float)
    euclid = np.hypot(*(hxy - sxy).T) * city.cell_size_m
    ok = euclid >= 3 * city.cell_size_m
    ratio = sup.pair_dist[ok] / euclid[ok]
    kind = city.community_kind[city.home_community[sup.pair_home[ok]]]
    old, new = ratio[kind == OLD].mean(), ratio[kind == NEW].mean()
    assert np.all(ratio >= 1.0 - 1e-6)
    assert new > old * 1.05, (old, new)


def test_kernel_independent_of_threads_and_equal_to_direct_kernel(rich_model, monkeypatch):
    """The factored kernel gives the same outcomes on one thread, on all threads (forced
    parallel chunks) and as the direct kernel (one exp per candidate, its fallback)."""
    import numba

    import model.choice as choice_module

    m = rich_model
    rng = np.random.default_rng(11)
    idx = m.present_idx
    need_res = np.sort(rng.choice(idx, size=30_000))
    need_cat = rng.integers(0, m.categories.k, size=len(need_res)).astype(np.int16)
    uniforms = rng.random(len(need_res))
    serial = run_choice(m, need_res, need_cat, uniforms)
    monkeypatch.setattr(choice_module, "PARALLEL_MIN_NEEDS", 0)
    threads = numba.get_num_threads()
    parallel = run_choice(m, need_res, need_cat, uniforms)
    numba.set_num_threads(1)
    try:
        one = run_choice(m, need_res, need_cat, uniforms)
    finally:
        numba.set_num_threads(threads)
    monkeypatch.setattr(choice_module, "MAX_SPEEDS", 1)  # too many speeds: direct kernel
    direct = run_choice(m, need_res, need_cat, uniforms)
    for other in (parallel, one, direct):
        for a, b in zip(serial, other, strict=True):
            assert np.array_equal(a, b)
    assert 0.02 < (serial[0] == -1).mean() < 0.5
