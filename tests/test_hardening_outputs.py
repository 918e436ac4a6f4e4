"""Output folders: lifecircle deletes only what it wrote and writes only inside its folder.

Decoy folders (unrelated files, the working folder, its parent, the home folder, a symbolic
link, a regular file, a lifecircle folder with a foreign file in it) survive every ``--out``
and ``--force`` of ``run``, ``experiment`` and ``compare``; labels with ``/``, spaces and
``..`` never become paths outside the output folder. (Issue 10: ``--force`` deleted whatever
folder it was given, ``--out .`` the working folder, ``--out ..`` the parent; a scenario name
with ``../`` made ``run`` write outside results/.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.outputs import MARKER, protected_reason
from lifecircle.cli import main

SMALL = ["--set", "communities_x=2", "--set", "communities_y=2", "--no-progress"]
EXPERIMENT = """
name = "tiny"
scenarios = ["baseline", "odd.toml"]
replicates = 1
days = 3
root_seed = 3
metrics = ["share_satisfied"]
[settings]
communities_x = 2
communities_y = 2
"""


def snapshot(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = (os.readlink(p).encode() if p.is_symlink()
                                            else p.read_bytes())
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A real (tiny) experiment's results folder, outside the decoys."""
    base = tmp_path_factory.mktemp("results")
    (base / "odd.toml").write_text('extends = "baseline"\nname = "odd"\n')
    (base / "tiny.toml").write_text(EXPERIMENT)
    assert main(["experiment", str(base / "tiny.toml"), "--out", str(base / "res"),
                 "--workers", "0", "--no-progress"]) == 0
    return base


@pytest.fixture
def decoys(tmp_path, monkeypatch, tmp_path_factory):
    """A tree of decoys; the working folder is work/ inside it; HOME is home/."""
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path_factory.mktemp("mpl")))
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.tex").write_text("years of work")
    work = tmp_path / "parent" / "work"
    work.mkdir(parents=True)
    (tmp_path / "parent" / "budget.xlsx").write_text("numbers")
    (work / "notes.txt").write_text("mine")
    (work / "data").mkdir()
    (work / "data" / "survey.csv").write_text("a,b\n1,2\n")
    (work / "link").symlink_to(work / "data")
    (work / "plain_file").write_text("not a folder")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(work)
    return tmp_path


TARGETS = [".", "..", "~", "data", "link", "plain_file", "data/../.."]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("force", [False, True])
def test_decoys_survive_run_out_and_force(decoys, capsys, target, force):
    before = snapshot(decoys)
    out = str(Path(target).expanduser()) if target == "~" else target
    args = ["run", "baseline", "--days", "2", "--out", out, *SMALL] + (["--force"] if force
                                                                        else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert snapshot(decoys) == before


@pytest.mark.parametrize("target", TARGETS)
def test_decoys_survive_experiment_and_compare_with_force(decoys, results, capsys, target):
    exp = results / "tiny.toml"
    before = snapshot(decoys)
    out = str(Path(target).expanduser()) if target == "~" else target
    assert main(["experiment", str(exp), "--out", out, "--force", "--workers", "0"]) == 2
    assert main(["experiment", str(exp), "--out", out, "--dry-run", "--force"]) == 2
    assert main(["compare", str(results / "res"), "--out", out, "--force"]) == 2
    assert main(["compare", out, "--force"]) == 2  # not a results folder either
    assert snapshot(decoys) == before
    assert all(ln.startswith("error: ") for ln in capsys.readouterr().err.strip().splitlines())


def test_protected_folders_are_refused_whatever_the_command():
    assert protected_reason(Path("/")) != ""
    assert protected_reason(Path.cwd()) == "is the working folder"
    assert protected_reason(Path.cwd().parent) == "is an ancestor of the working folder"
    assert protected_reason(Path.home()) in ("is the home folder",
                                             "is an ancestor of the working folder")


def test_force_replaces_only_a_lifecircle_folder_with_nothing_foreign(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "baseline", "--days", "2", "--out", str(out), *SMALL]) == 0
    assert (out / MARKER).is_file()
    assert main(["run", "baseline", "--days", "2", "--out", str(out), *SMALL]) == 2
    assert "pass --force" in capsys.readouterr().err
    first = (out / "daily.parquet").read_bytes()
    assert main(["run", "baseline", "--days", "3", "--out", str(out), "--force", *SMALL]) == 0
    assert (out / "daily.parquet").read_bytes() != first
    (out / "my_notes.txt").write_text("added by a person")
    assert main(["run", "baseline", "--days", "2", "--out", str(out), "--force", *SMALL]) == 2
    assert "my_notes.txt" in capsys.readouterr().err
    assert (out / "my_notes.txt").read_text() == "added by a person"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no partial folder left


def test_labels_never_become_paths_outside_the_output_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.toml").write_text('extends = "baseline"\nname = "../../escape"\n')
    (tmp_path / "slash.toml").write_text('extends = "rent_subsidy"\nname = "subsidy 30/50"\n')
    assert main(["run", "evil.toml", "--days", "2", *SMALL]) == 0
    made = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".toml"]
    assert made and all(p.is_relative_to(tmp_path / "results") for p in made)
    exp = tmp_path / "e.toml"
    exp.write_text(EXPERIMENT.replace('"odd.toml"', '"evil.toml", "slash.toml"')
                   .replace('metrics = ["share_satisfied"]',
                            'metrics = ["share_satisfied", "coverage_basic_all"]\n'
                            'baseline = "subsidy 30/50"'))
    before = set(tmp_path.parent.rglob("*"))
    assert main(["experiment", str(exp), "--out", "res", "--workers", "0", "--no-progress"]) == 0
    assert main(["compare", "res"]) == 0
    assert main(["compare", "res", "--out", "rep"]) == 0
    new = set(tmp_path.parent.rglob("*")) - before
    assert new and all(p.is_relative_to(tmp_path / "res") or p.is_relative_to(tmp_path / "rep")
                       for p in new)
    assert "subsidy 30/50" in (tmp_path / "rep" / "report.md").read_text()


def test_stale_partial_folders_of_dead_processes_are_cleaned(tmp_path):
    import socket

    from experiments.outputs import safe_name

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    host = safe_name(socket.gethostname(), 40)
    dead = tmp_path / f".old.partial-{host}-{proc.pid}-abcd1234"
    alive = tmp_path / f".other.partial-{host}-{os.getpid()}-abcd1234"
    unmarked = tmp_path / f".x.partial-{host}-{proc.pid}-ffff0000"
    for d in (dead, alive, unmarked):
        d.mkdir()
        (d / "daily.parquet").write_text("half")
    for d in (dead, alive):
        (d / MARKER).write_text('{"writer": "lifecircle run"}')
    assert main(["run", "baseline", "--days", "2", "--out", str(tmp_path / "new"), *SMALL]) == 0
    assert not dead.exists() and alive.exists() and unmarked.exists()


def _mount_tmpfs(where: Path, options: str) -> bool:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True, check=False)
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 24 kB tmpfs (a disk that fills up) and a read-only one; skipped without mount."""
    full, ro = tmp_path / "full", tmp_path / "ro"
    if not (_mount_tmpfs(full, "size=24k") and _mount_tmpfs(ro, "size=64k,ro")):
        subprocess.run(["umount", str(full)], capture_output=True, check=False)
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield full, ro
    for m in (full, ro):
        subprocess.run(["umount", str(m)], check=True)


def test_a_full_disk_and_a_read_only_folder_are_clean_errors(small_disk, capsys):
    full, ro = small_disk
    assert main(["run", "baseline", "--days", "20", "--out", str(ro / "r"), *SMALL]) == 2
    assert f"cannot write in {ro}" in capsys.readouterr().err
    assert main(["run", "baseline", "--days", "20", "--out", str(full / "r"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "nothing was written" in err
    assert os.listdir(full) == []
