"""Train the measurement estimator on ANSUR II and write model.json plus a metrics report.

Usage (from the repository root)::

    python scripts/train_measurement_estimator.py [--data-dir DIR] [--out DIR] [--seed N]

``--data-dir`` is the folder holding ``anthropometry/ANSUR_II_*.csv`` and
``anthropometry/bdims.csv`` (default: $FITROOM_DATA_DIR, else ../shared/data beside
the repository). Writes ``<out>/model.json`` and ``bench/results/measurement_estimator.md``
and prints the metrics table. The data is read, never copied.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from pathlib import Path

from fitroom.errors import FitroomError
from fitroom.sizing.estimator_fit import (
    DEFAULT_SEED,
    DEFAULT_TEST_FRACTION,
    build_model_document,
    metrics_markdown,
    train_measurement_estimator,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "src" / "fitroom" / "models_dir" / "measurement_estimator"
REPORT_PATH = REPO_ROOT / "bench" / "results" / "measurement_estimator.md"


_NUMBER_LIST = re.compile(r"\[\s*([-+0-9.eE,\s]+?)\s*\]")
_FLAT_OBJECT = re.compile(r"\{\n[^{}\[\]]*?\n\s*\}")


def to_json(document: dict[str, object]) -> str:
    """Indented JSON with each number list and flat object on one line (reads as a table)."""
    text = json.dumps(document, indent=1)
    text = _FLAT_OBJECT.sub(lambda match: " ".join(match.group(0).split()), text)
    return (
        _NUMBER_LIST.sub(
            lambda match: "[" + ", ".join(part.strip() for part in match.group(1).split(",")) + "]",
            text,
        )
        + "\n"
    )


def default_data_dir() -> Path:
    """$FITROOM_DATA_DIR, else ../shared/data relative to the repository root."""
    from_env = os.environ.get("FITROOM_DATA_DIR")
    return Path(from_env) if from_env else REPO_ROOT.parent / "shared" / "data"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="shared data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for model.json")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="split seed")
    parser.add_argument(
        "--test-fraction", type=float, default=DEFAULT_TEST_FRACTION, help="held-out share"
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=REPORT_PATH,
        help="Markdown report path (bench/results/measurement_estimator.md)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    args = parse_args(args_list)
    data_dir = args.data_dir or default_data_dir()
    command = shlex.join(["python", "scripts/train_measurement_estimator.py", *args_list])
    try:
        result = train_measurement_estimator(
            data_dir, seed=args.seed, test_fraction=args.test_fraction
        )
    except FitroomError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    document = build_model_document(result, command=command)
    args.out.mkdir(parents=True, exist_ok=True)
    model_path = args.out / "model.json"
    model_path.write_text(to_json(document), encoding="utf-8")

    table = metrics_markdown(result)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        "# Measurement estimator: held-out metrics\n\n"
        f"Produced by `{command}` (writes `{model_path.name}` and this file).\n\n"
        + table
        + "\nNotes: "
        + document["notes"]
        + "\n",
        encoding="utf-8",
    )
    print(table)
    print(f"wrote {model_path} ({model_path.stat().st_size} bytes) and {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
