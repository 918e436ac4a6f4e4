"""``extends`` graphs and unreadable files: linear diamonds, no duplicated policy, clean errors.

(Issue 10: a diamond of 40 files hung, 10 levels gave 1,024 copies of a policy, two parents
bringing the same policy kind doubled it, 1,500 files raised RecursionError, binary and
Latin-1 files and deeply nested TOML gave tracebacks.)
"""

from __future__ import annotations

import pytest

from lifecircle.cli import main
from model import ScenarioError, load_scenario
from model.scenario import MAX_EXTENDS_DEPTH


def _diamond(folder, n: int):
    # f_i extends f_{i+1} and f_{i+2}: ~2^n paths through n files
    for i in range(n):
        parents = [f"f{j}" for j in (i + 1, i + 2) if j < n] or ["baseline"]
        body = f"extends = {parents!r}\n".replace("'", '"')
        if i == n - 1:
            body += '[[policy]]\nkind = "rent_subsidy"\nshare = 0.3\n'
        (folder / f"f{i}.toml").write_text(body)
    return folder / "f0.toml"


def test_a_diamond_resolves_each_file_once(tmp_path):
    sc = load_scenario(_diamond(tmp_path, MAX_EXTENDS_DEPTH - 2))  # 2^30 paths: linear time
    assert [p["kind"] for p in sc.policies] == ["rent_subsidy"]


def test_a_diamond_of_40_files_is_refused_by_the_depth_limit_not_hung(tmp_path):
    with pytest.raises(ScenarioError, match=f"more than {MAX_EXTENDS_DEPTH} files"):
        load_scenario(_diamond(tmp_path, 40))


def test_ten_levels_of_double_extends_keep_one_copy_of_a_policy(tmp_path):
    (tmp_path / "l10.toml").write_text('extends = "baseline"\n[[policy]]\nkind = "fill_gaps"\n')
    for i in range(9, -1, -1):
        (tmp_path / f"l{i}.toml").write_text(f'extends = ["l{i + 1}", "l{i + 1}"]\n')
    assert [p["kind"] for p in load_scenario(tmp_path / "l0.toml").policies] == ["fill_gaps"]


def test_the_same_policy_reached_twice_counts_once(tmp_path):
    path = tmp_path / "both.toml"
    path.write_text('extends = ["combined", "rent_subsidy"]\n')
    kinds = [p["kind"] for p in load_scenario(path).policies]
    assert kinds.count("rent_subsidy") == 1
    assert load_scenario(path).policies == load_scenario("combined").policies


def test_a_policy_kind_from_two_different_parents_is_refused(tmp_path):
    for name, share in (("a", 0.2), ("b", 0.4)):
        (tmp_path / f"{name}.toml").write_text(
            f'extends = "baseline"\n[[policy]]\nkind = "rent_subsidy"\nshare = {share}\n')
    path = tmp_path / "both.toml"
    path.write_text('extends = ["a", "b"]\n')
    with pytest.raises(ScenarioError, match="policy kind 'rent_subsidy' comes from two "
                                            "parents") as err:
        load_scenario(path)
    assert err.value.key == "extends" and err.value.where == str(path.resolve())


def test_a_chain_longer_than_the_depth_limit_is_a_clean_error(tmp_path):
    n = 1500
    for i in range(n):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}"\n' if i < n - 1
                                             else 'extends = "baseline"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "c0.toml")
    assert err.value.key == "extends"
    assert f"more than {MAX_EXTENDS_DEPTH} files" in str(err.value)
    assert "c" in err.value.where and err.value.where.endswith(".toml")


@pytest.mark.parametrize(("content", "key"), [
    (bytes(range(256)) * 4, "(encoding)"),
    ("name = 'caf\u00e9'\n".encode("latin-1"), "(encoding)"),
    (b"x = " + b"[" * 20_000 + b"]" * 20_000 + b"\n", "(syntax)"),
])
def test_unreadable_files_are_errors_naming_the_file(tmp_path, capsys, content, key):
    path = tmp_path / "odd.toml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.key == key and err.value.where == str(path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--days", "2", "--out", str(out)]) == 2
    msg = capsys.readouterr().err
    assert msg.startswith("error: ") and str(path) in msg and msg.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize(("body", "key"), [
    ("share_old = 3\n", "share_old"),
    ("speed_elderly_mps = nan\n", "speed_elderly_mps"),
    ("[categories.repair]\nspend = -5\n", "categories.repair.spend"),
    ("[categories.caviar]\nspend = 5\n", "categories.caviar"),
    ("[[policy]]\nkind = \"rent_subsidy\"\nshare = 7\n", "policy.rent_subsidy.share"),
])
def test_a_bad_value_in_a_parent_names_the_parent(tmp_path, capsys, body, key):
    """The file that wrote the value is named, not the child that extends it."""
    (tmp_path / "parent.toml").write_text('extends = "baseline"\n' + body)
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent"\nshare_old = 0.5\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(child)
    assert (err.value.where, err.value.key) == (str(tmp_path / "parent.toml"), key)
    assert main(["validate", str(child)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'parent.toml'}: {key}: ")
