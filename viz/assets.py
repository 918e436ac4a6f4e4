"""Offline browser assets for the visualization.

Solara's server hands the browser its JavaScript, CSS and fonts through a proxy at
``/_solara/cdn/<package>@<version>/<file>``; on a cache miss the server fetches the file from a
public CDN, which is unreachable on our machines. This module fills Solara's proxy cache
(``solara.server.settings.assets.proxy_cache_dir``, env ``SOLARA_ASSETS_PROXY_CACHE_DIR``) ahead
of time from the npm registry, through the ordinary ``npm pack`` client, so the page never
needs the network. The CDN serves ``<package>@<version>/<path>`` as the file ``<path>`` inside the
package's npm tarball, so unpacking each tarball into ``<cache>/<package>@<version>/`` is exact.

Run once during set-up (idempotent, ~5 s, ~25 MB)::

    python -m viz.assets            # fill the cache, print where
    python -m viz.assets --check    # exit 1 if anything is missing
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

# Exactly what solara 1.64.1's page (and the widgets this app uses) ask the proxy for.
# A solara upgrade that changes a version shows up as a 404 in tests/test_viz_browser.py.
PACKAGES: tuple[tuple[str, str], ...] = (
    ("@widgetti/solara-vuetify-app", "10.1.1"),
    ("font-awesome", "4.5.0"),
    ("requirejs", "2.3.6"),
    ("mermaid", "10.8.0"),  # solara.Markdown loads mermaid and katex
    ("katex", "0.16.9"),
)

_MARKER = ".lifecircle-complete"


def cache_dir() -> pathlib.Path:
    """Solara's proxy cache directory (honours SOLARA_ASSETS_PROXY_CACHE_DIR)."""
    import solara.server.settings as settings

    return pathlib.Path(settings.assets.proxy_cache_dir)


def _package_dir(root: pathlib.Path, name: str, version: str) -> pathlib.Path:
    return root / f"{name}@{version}"


def missing(root: pathlib.Path | None = None) -> list[str]:
    """Return the ``name@version`` specs whose files are not in the cache yet."""
    root = cache_dir() if root is None else root
    return [
        f"{n}@{v}" for n, v in PACKAGES if not (_package_dir(root, n, v) / _MARKER).exists()
    ]


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found: install Node.js/npm (Debian: apt-get install -y npm)")
    return npm


def _unpack(tarball: pathlib.Path, dest: pathlib.Path) -> None:
    """Unpack an npm tarball into dest, dropping the top folder (usually ``package/``)."""
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        members = []
        for m in tar.getmembers():
            parts = pathlib.PurePosixPath(m.name).parts
            if len(parts) < 2 or not (m.isfile() or m.isdir()):
                continue
            m.name = str(pathlib.PurePosixPath(*parts[1:]))
            members.append(m)
        tar.extractall(tmp, members=members, filter="data")
    (tmp / _MARKER).write_text(tarball.name + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def fill(root: pathlib.Path | None = None, *, quiet: bool = False) -> pathlib.Path:
    """Download (npm pack) and unpack every package solara's page needs; skip cached ones."""
    root = cache_dir() if root is None else pathlib.Path(root)
    root.mkdir(parents=True, exist_ok=True)
    todo = [(n, v) for n, v in PACKAGES if not (_package_dir(root, n, v) / _MARKER).exists()]
    if not todo:
        return root
    npm = _npm()
    with tempfile.TemporaryDirectory(prefix="lifecircle-npm-") as tmpdir:
        tmp = pathlib.Path(tmpdir)
        for name, version in todo:
            spec = f"{name}@{version}"
            out = subprocess.run(
                [npm, "pack", spec, "--silent", "--pack-destination", str(tmp)],
                cwd=tmp,
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                raise RuntimeError(f"npm pack {spec} failed:\n{out.stderr.strip()}")
            tarball = tmp / out.stdout.strip().splitlines()[-1]
            dest = _package_dir(root, name, version)
            dest.parent.mkdir(parents=True, exist_ok=True)
            _unpack(tarball, dest)
            if not quiet:
                print(f"cached {spec} -> {dest}")
    return root


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m viz.assets [--check] [--dir DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m viz.assets", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if incomplete")
    parser.add_argument("--dir", type=pathlib.Path, default=None, help="cache dir (default: solara's)")
    args = parser.parse_args(argv)
    if args.dir is not None:
        os.environ["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(args.dir)
    root = args.dir or cache_dir()
    if args.check:
        gone = missing(root)
        print("missing: " + ", ".join(gone) if gone else f"complete: {root}")
        return 1 if gone else 0
    fill(root)
    print(f"solara assets ready in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
