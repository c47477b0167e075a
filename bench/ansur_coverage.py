"""ANSUR II coverage of the demo size charts.

For each demo chart, every ANSUR II body of the chart's sex gets a recommendation
(regular fit, measured zones only, no estimates); we count the share whose recommended
size fits in EVERY zone the chart covers as ``regular`` or ``snug`` (not tight, loose
or oversized). "Best any size could do" is the share for which SOME size of the chart
(and length) fits that way: the gap between the two columns is the recommender's, the
rest is the chart's (real bodies rarely match a chart's proportions in every zone).
Bodies outside a chart's whole range (bigger than its largest size or smaller than its
smallest) count as not covered: that is what a shopper would see.

ANSUR II columns: chest ``chestcircumference``, hip ``buttockcircumference``, inseam
``crotchheight``, neck ``neckcircumferencebase``, sleeve ``sleevelengthspinewrist``,
height ``stature``. ANSUR II measures the waist at the navel (``waistcircumference``),
not at the natural waist that charts use; we convert it with the navel-to-natural ratio
that the measurement estimator calibrated on bdims (see
bench/results/measurement_estimator.md).

Run: ``.venv/bin/python bench/ansur_coverage.py``
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_dir, markdown_table, write_result
from fitroom.demo.content import demo_charts
from fitroom.sizing.charts import SizeChart
from fitroom.sizing.estimate import default_model_path
from fitroom.sizing.recommend import FitLevel, ZoneValue, recommend_size, size_fit
from fitroom.sizing.zones import Sex, Zone

COLUMNS = {
    Zone.chest: "chestcircumference",
    Zone.waist: "waistcircumference",
    Zone.hip: "buttockcircumference",
    Zone.inseam: "crotchheight",
    Zone.neck: "neckcircumferencebase",
    Zone.sleeve: "sleevelengthspinewrist",
    Zone.height: "stature",
}
GOOD = {FitLevel.regular, FitLevel.snug}


def load_bodies(path: Path) -> list[dict[Zone, float]]:
    with path.open(newline="", encoding="latin-1") as handle:
        rows = list(csv.DictReader(handle))
    bodies = []
    for row in rows:
        body = {zone: float(row[column]) / 10.0 for zone, column in COLUMNS.items()}
        bodies.append(body)
    return bodies


def natural_waist(bodies: list[dict[Zone, float]], sex: Sex) -> str:
    """Convert ANSUR's navel waist to natural waist with the estimator's bdims ratio."""
    model = json.loads(default_model_path().read_text())
    conversion = next(c for c in model["waist_definition"]["conversion"] if c["sex"] == sex.value)
    ratio = float(conversion["ratio"])
    for body in bodies:
        body[Zone.waist] = body[Zone.waist] * ratio
    return f"natural waist = ANSUR navel waist x {ratio:.3f} (bdims-calibrated)"


def main() -> None:
    folder = data_dir() / "anthropometry"
    if not folder.exists():
        sys.exit(f"ANSUR II not found in {folder}; set FITROOM_DATA_DIR")
    population = {
        Sex.male: load_bodies(folder / "ANSUR_II_MALE.csv"),
        Sex.female: load_bodies(folder / "ANSUR_II_FEMALE.csv"),
    }
    waist_note = {sex: natural_waist(bodies, sex) for sex, bodies in population.items()}
    rows = []
    for chart_data in demo_charts():
        chart = SizeChart.from_dict(chart_data)
        bodies = population[chart.sex]
        good = best_possible = 0
        length_options: list[int | None] = list(range(len(chart.lengths))) or [None]
        failures: Counter[str] = Counter()
        sizes: Counter[str] = Counter()
        for body in bodies:
            measured = {z: ZoneValue(body[z], 0.0) for z in chart.zones}
            rec = recommend_size(chart, measured)
            sizes[rec.size] += 1
            zone_fits = rec.fits[0].zones
            if all(zf.fit in GOOD for zf in zone_fits):
                good += 1
            if any(
                all(
                    zf.fit in GOOD
                    for zf in size_fit(chart, measured, size, length, chart.zones).zones
                )
                for size in range(len(chart.sizes))
                for length in length_options
            ):
                best_possible += 1
            else:
                for zf in zone_fits:
                    if zf.fit not in GOOD:
                        failures[f"{zf.zone.value} {zf.fit.value}"] += 1
        top = ", ".join(f"{k} {v / len(bodies):.0%}" for k, v in failures.most_common(3))
        rows.append(
            [
                chart.chart_id,
                chart.sex.value,
                ", ".join(z.value for z in chart.zones),
                len(bodies),
                f"{good / len(bodies):.1%}",
                f"{best_possible / len(bodies):.1%}",
                top or "-",
            ]
        )
        print(f"{chart.chart_id}: {good / len(bodies):.1%}", file=sys.stderr)
    table = markdown_table(
        [
            "chart",
            "sex",
            "zones",
            "bodies",
            "every zone regular or snug",
            "best any size could do",
            "most common misfits",
        ],
        rows,
    )
    shares = np.array([float(r[4].rstrip("%")) for r in rows])
    text = (
        "Share of ANSUR II bodies (4,082 men, 1,986 women) whose recommended size fits "
        "regular or snug in every zone of the chart. Waist: men "
        f"{waist_note[Sex.male]}; women {waist_note[Sex.female]}.\n\n{table}\n\n"
        f"Median over charts: {np.median(shares):.1f}%.\n\n"
        "Command: `.venv/bin/python bench/ansur_coverage.py`\n"
    )
    print(text)
    write_result("ansur_coverage.md", text)


if __name__ == "__main__":
    main()
