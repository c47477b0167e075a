"""``fitroom recsys eval`` (the command-line face of :mod:`fitroom.recsys.evaluation`).

Parsing and printing only. ``fitroom recsys train`` (the store's own events) lives with
the other store commands in :mod:`fitroom.cli`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from fitroom.cli_support import run_or_exit

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def eval_command(
    dataset: Annotated[
        Path, typer.Option(help="Sequence file: one line per shopper, 'user item item ...'.")
    ],
    models: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated: pop,itemknn,transitions,als,bpr,sasrec,hybrid (default: all)."
        ),
    ] = None,
    tune: Annotated[
        bool, typer.Option(help="Try each model's settings on the validation split.")
    ] = True,
    sasrec_minutes: Annotated[
        float, typer.Option(help="Wall-clock guard for SASRec training (0: none).")
    ] = 0.0,
    threads: Annotated[int, typer.Option(help="CPU threads (0: all).")] = 0,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON report here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Leave-one-out, full-ranking HR@10, NDCG@10, Recall@20, MRR and coverage per model.

    The last item of each shopper is the test target, the second last the validation
    target (used for settings and early stopping only). Test figures are reported.
    """
    from fitroom.errors import InputError
    from fitroom.recsys.evaluation import DEFAULT_MODELS, SEARCH_SPACES, evaluate_models

    names = [m.strip() for m in models.split(",") if m.strip()] if models else list(DEFAULT_MODELS)

    def action() -> dict[str, Any]:
        import torch

        from fitroom.recsys.data import load_sequence_file

        unknown = [m for m in names if m not in SEARCH_SPACES]
        if unknown or not names:
            raise InputError(
                f"unknown model(s) {', '.join(unknown) or '(none given)'}; "
                f"known: {', '.join(SEARCH_SPACES)}",
                field="models",
            )
        if threads > 0:
            torch.set_num_threads(threads)
        data = load_sequence_file(dataset)
        overrides: dict[str, dict[str, Any]] = {
            "sasrec": {"max_minutes": sasrec_minutes, "threads": threads},
            "als": {"threads": threads},
            "bpr": {"threads": threads},
        }
        interactive = sys.stderr.isatty()

        def log(model: str, message: str) -> None:
            typer.echo(f"{model}: {message}", err=True)

        def progress(model: str) -> Any:
            def report(step: int, total: int, info: Any) -> None:
                if "valid" in info or interactive:
                    extra = f" valid NDCG@10 {info['valid']:.4f}" if "valid" in info else ""
                    line = f"{model}: epoch {step}/{total} loss {info.get('loss', 0):.3f}{extra}"
                    if interactive:
                        typer.echo(f"\r{line}", nl=False, err=True)
                    else:
                        typer.echo(line, err=True)

            return report

        results = evaluate_models(
            data, names, overrides=overrides, tune=tune, log=log, progress=progress
        )
        report = {
            "dataset": {
                "path": str(dataset),
                "users": data.n_users,
                "items": data.n_items,
                "interactions": data.n_interactions,
            },
            "protocol": "leave-one-out; full ranking over all items except the shopper's "
            "earlier ones; ties count against the model; test figures",
            "models": {name: r.to_dict() for name, r in results.items()},
        }
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(report, indent=2), encoding="utf-8")
        return report

    report = run_or_exit(as_json, action)
    if as_json:
        typer.echo(json.dumps(report["models"], indent=2))
        return
    typer.echo(
        f"{'model':<10} {'HR@10':>7} {'NDCG@10':>8} {'Recall@20':>9} {'MRR':>7} "
        f"{'cover@10':>8} {'train s':>8}"
    )
    for name, r in report["models"].items():
        t = r["test"]
        typer.echo(
            f"{name:<10} {t['hr_at_10']:>7.4f} {t['ndcg_at_10']:>8.4f} {t['recall_at_20']:>9.4f} "
            f"{t['mrr']:>7.4f} {t['coverage_at_10']:>8.4f} {r['train_seconds']:>8.1f}"
        )
