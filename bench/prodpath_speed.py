"""How fast the production path is, next to libcst parsing every Python file, timed in the same run.

    python bench/prodpath_speed.py [--files N] [--repeat R]

On the generated Flask project of `analyzer_speed.py` (N modules, about 100
lines each), it times `Project(tree).production.env_contract()` on a fresh
project (nothing parsed before) and libcst parsing every Python file of the
tree once, and prints the best time of each with their ratio, and how many
modules the path holds and how many of them were walked without libcst
(quiet modules, `analyzer/prodpath/quiet.py`). No pass mark: the figures are
for reading.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analyzer_speed import best_of, generate_flask_tree, parse_all, python_files  # noqa: E402

from analyzer.project import Project  # noqa: E402


def production_path(root: Path) -> Project:
    project = Project(root)
    project.production.env_contract()
    return project


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="Python modules in the generated tree (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best counts")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="preflight-prodpath-") as scratch:
        root = Path(scratch) / "flaskshop"
        generate_flask_tree(root, args.files)
        paths = python_files(root)
        reach = production_path(root).production.reach
        quiet = sum(1 for path in reach.modules if path in reach._quiet)
        production = best_of(args.repeat, lambda: production_path(root))
        parse = best_of(args.repeat, lambda: parse_all(paths))

    print(f"generated Flask tree: {len(paths)} Python files, {len(reach.modules)} modules on the production path")
    print(f"  of which {quiet} quiet (walked from CPython's tree, not parsed with libcst)")
    print(f"production path  {production:8.2f}s")
    print(f"libcst parse all {parse:8.2f}s")
    print(f"production / parse-all: {production / parse:.3f}")
    print(f"best of {args.repeat}; lower is faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
