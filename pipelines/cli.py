"""The `mfhc` command line. Exit status: 0 success, 1 data error (with the report), 2 usage error."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import click

from pipelines.config import ConfigError, load_settings

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _settings(db: Path | None):
    try:
        return load_settings(db_path=db)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def _print_report(report, stream=None) -> None:
    for line in report.summary_lines():
        click.echo(line, file=stream)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mfhc")
def main() -> None:
    """mfhc: children missing from home and care, for Local Safeguarding Children Boards."""


@main.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Folder to write the synthetic source files into.")
@click.option("--children", type=click.IntRange(min=1), default=None,
              help="Distinct children who go missing over the whole window (default: one authority's size).")
@click.option("--years", type=click.IntRange(1, 20), default=3, show_default=True, help="Financial years.")
@click.option("--seed", type=int, default=2014, show_default=True, help="Random seed (same seed, same files).")
@click.option("--no-errors", is_flag=True, help="Write no deliberate data-quality errors.")
def generate(out_dir: Path, children: int | None, years: int, seed: int, no_errors: bool) -> None:
    """Write a realistic SYNTHETIC source folder (Wolverhampton's real geography) in the formats of docs/inputs.md."""
    from pipelines import generate as generator
    from pipelines.load import SYNTHETIC_MARKER

    kwargs = {"years": years, "seed": seed, "progress": sys.stderr.isatty(), "errors": not no_errors}
    if children is not None:
        kwargs["children"] = children
    summary = generator.generate(out_dir, **kwargs)
    (out_dir / SYNTHETIC_MARKER).write_text(
        "Synthetic data made by `mfhc generate` on Wolverhampton's real geography. Not real children.\n",
        encoding="utf-8")
    click.echo(f"wrote synthetic source folder {out_dir}")
    for key, value in summary.items():
        click.echo(f"  {key}: {value}")


def _run_load(source_dir: Path, db: Path | None, strict: bool, keep_staging: bool = False) -> None:
    from pipelines.load import LoadError, load

    settings = _settings(db)
    try:
        report = load(source_dir, settings, strict=strict, progress=sys.stderr.isatty(), keep_staging=keep_staging)
    except LoadError as exc:
        if exc.report is not None and (len(exc.report.rejections) or exc.report.files):
            _print_report(exc.report, sys.stderr)
        click.echo(f"load failed: {exc}", err=True)
        click.echo(f"the store {settings.db_path} was not changed", err=True)
        sys.exit(1)
    _print_report(report)
    click.echo(f"store: {settings.db_path}")


@main.command("load")
@click.argument("source_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Database file (default data/mfhc.duckdb, or MFHC_DB).")
@click.option("--strict", is_flag=True, help="Fail the load if any row breaks a rule.")
@click.option("--keep-staging", is_flag=True,
              help="Also keep the staged (pseudonymised) rows and the linking's tables in the store, "
                   "to audit how episodes were linked (a larger store, a slower load).")
def load_command(source_dir: Path, db: Path | None, strict: bool, keep_staging: bool) -> None:
    """Validate, pseudonymise, link and load SOURCE_DIR; the store is replaced atomically."""
    _run_load(source_dir, db, strict, keep_staging)


@main.command()
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Database file.")
def demo(db: Path | None) -> None:
    """Generate the default synthetic data set (fixed seed) and load it: the embedded demo."""
    from pipelines import generate as generator
    from pipelines.load import SYNTHETIC_MARKER

    settings = _settings(db)
    source = Path(settings.db_path).parent / "demo_source"
    if source.exists():
        shutil.rmtree(source)
    generator.generate(source, progress=sys.stderr.isatty())
    (source / SYNTHETIC_MARKER).write_text("Synthetic demo data on Wolverhampton's real geography.\n",
                                           encoding="utf-8")
    _run_load(source, settings.db_path, strict=False)


@main.command()
@click.option("--from", "period_from", type=DATE, required=True, help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "period_to", type=DATE, required=True, help="Last day of the period (YYYY-MM-DD).")
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Database file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def kpis(period_from: dt.datetime, period_to: dt.datetime, db: Path | None, as_json: bool) -> None:
    """The board KPIs of docs/metrics.md for episodes starting in the period (both ends inclusive)."""
    from pipelines.kpis import compute_kpis
    from pipelines.store import StoreMissing, read_only

    if period_from > period_to:
        raise click.BadParameter("--from is after --to", param_hint="--from/--to")
    settings = _settings(db)
    try:
        with read_only(settings.db_path) as con:
            figures = compute_kpis(con, period_from.date(), period_to.date())
    except StoreMissing as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        click.echo(f"{key:32} {value}")


@main.command()
@click.option("--from", "period_from", type=DATE, required=True, help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "period_to", type=DATE, required=True, help="Last day of the period (YYYY-MM-DD).")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="PDF file to write.")
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Database file.")
@click.option("--show-small-numbers", is_flag=True,
              help="Print counts of 1 to 4 and the rates built on them (managers only: do not circulate).")
def report(period_from: dt.datetime, period_to: dt.datetime, out: Path, db: Path | None,
           show_small_numbers: bool) -> None:
    """The board pack: an A4 PDF of the period's figures, charts, narrative, data quality,
    glossary and board checklist. Small numbers are suppressed unless --show-small-numbers."""
    import os

    from pipelines.board_pack import build_board_pack, close_renderer
    from pipelines.store import StoreMissing

    if period_from > period_to:
        raise click.BadParameter("--from is after --to", param_hint="--from/--to")
    if not out.parent.is_dir():
        click.echo(f"{out.parent}: no such folder; nothing was written", err=True)
        sys.exit(1)
    settings = _settings(db)
    try:
        pdf = build_board_pack(settings, period_from.date(), period_to.date(), suppress=not show_small_numbers,
                               produced_by=_os_user(), where="cli")
    except StoreMissing as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    finally:
        close_renderer()
    partial = out.with_name(out.name + ".part")
    partial.write_bytes(pdf)
    os.replace(partial, out)
    click.echo(f"wrote {out} ({len(pdf) // 1024:,} KB; small numbers "
               f"{'shown' if show_small_numbers else 'suppressed'})")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Database file.")
def serve(host: str, port: int, db: Path | None) -> None:
    """Serve the dashboard (builds the demo store first when there is none)."""
    import os

    settings = _settings(db)
    if not Path(settings.db_path).exists():
        click.echo(f"no store at {settings.db_path}: building the demo data set first", err=True)
        ctx = click.get_current_context()
        ctx.invoke(demo, db=settings.db_path)
    os.environ["MFHC_DB"] = str(settings.db_path)
    from pipelines.cli_admin import ensure_first_admin

    password = ensure_first_admin(settings)
    if password:
        click.echo(f"No accounts yet: created user 'admin' with password {password}\n"
                   "Sign in with it, then add people with `mfhc users add NAME --role ROLE` and change it "
                   "with `mfhc users passwd admin`.", err=True)
    from dashboard.app import app  # made at import, over MFHC_DB set above

    app.run(host=host, port=port, debug=False)



def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@main.group()
def export() -> None:
    """Statutory returns from the store."""


@export.command("annex-a")
@click.option("--as-at", "as_at", type=DATE, required=True, help="As-at date (YYYY-MM-DD); the 12 months end on it.")
@click.option("--source", "source_dir", type=click.Path(path_type=Path), required=True,
              help="The source folder the store was loaded from (its SSDA903 files name the children).")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Excel workbook to write (.xlsx).")
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Database file.")
def export_annex_a(as_at: dt.datetime, source_dir: Path, out: Path, db: Path | None) -> None:
    """Ofsted Annex A, children in care: episodes missing and away in the 12 months to the
    as-at date and the return interview after the last missing one, by LA child reference."""
    from pipelines import annex_a, audit
    from pipelines.reidentify import ReidentifyError
    from pipelines.store import StoreMissing

    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter("the workbook must end in .xlsx", param_hint="--out")
    settings = _settings(db)
    try:
        result = annex_a.build(as_at.date(), source_dir, settings)
    except (ReidentifyError, StoreMissing) as exc:
        audit.record("export", user=_os_user(), what=f"annex-a as at {as_at.date().isoformat()}", where="cli",
                     settings=settings, refused=str(exc))
        click.echo(f"annex-a refused: {exc}", err=True)
        click.echo(f"nothing was written to {out}", err=True)
        sys.exit(1)
    annex_a.write(result, out)
    audit.record("export", user=_os_user(), what=f"annex-a as at {as_at.date().isoformat()}", where="cli",
                 settings=settings, rows=len(result.children), unmatched=result.unmatched_count, file=out.name)
    click.echo(f"wrote {out}: {len(result.children):,} children in care "
               f"({result.window_start.isoformat()} to {result.as_at.isoformat()})")
    if result.unmatched_count:
        click.echo(f"  {result.unmatched_count:,} children of the store are not in the source folder's SSDA903 "
                   f"files: listed by pseudonymised key on the sheet '{annex_a.UNMATCHED_SHEET}'", err=True)


@main.command()
@click.option("--source", "source_dir", type=click.Path(path_type=Path), required=True,
              help="The source folder the store was loaded from.")
@click.option("--db", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Database file.")
@click.argument("keys", nargs=-1, required=True)
def reidentify(source_dir: Path, db: Path | None, keys: tuple[str, ...]) -> None:
    """(Admins) For each pseudonymised KEY (the 8 characters the dashboard shows, or the full key),
    print the source file, row and reference it came from. Every use is audited (never the reference)."""
    from pipelines import audit
    from pipelines import reidentify as mechanism
    from pipelines.degrade import Pseudonymiser
    from pipelines.store import StoreMissing, read_only

    try:
        asked = mechanism.normalise_asked(list(keys))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="KEYS") from exc
    settings = _settings(db)
    what = ",".join(asked)
    try:
        pseudonymiser = Pseudonymiser(mechanism.load_key(settings.db_path))
        with read_only(settings.db_path) as con:
            children = mechanism.store_children(con)
        # Keep only the rows asked for and those the key check needs, whatever the folder's size.
        occurrences = mechanism.source_occurrences(
            source_dir, settings, pseudonymiser, mechanism.all_tables(),
            keep=lambda part: part["key"].str.startswith(tuple(asked)) | part["key"].isin(children))
        mechanism.check_key(occurrences, children)
    except (mechanism.ReidentifyError, StoreMissing) as exc:
        audit.record("reidentify", user=_os_user(), what=what, where="cli", settings=settings, matched=0,
                     refused=str(exc))
        click.echo(f"reidentify refused: {exc}", err=True)
        sys.exit(1)
    results = mechanism.resolve(asked, occurrences)
    matched = sum(r.status == "matched" for r in results)
    audit.record("reidentify", user=_os_user(), what=what, where="cli", settings=settings, matched=matched,
                 ambiguous=sum(r.status == "ambiguous" for r in results),
                 not_found=sum(r.status == "not found" for r in results))
    for result in results:
        if result.status == "matched":
            click.echo(f"{result.asked}: {result.occurrences['namespace'].iloc[0]} key {result.keys[0]}")
            for row in result.occurrences.itertuples(index=False):
                click.echo(f"  {row.file} row {row.row}, column {row.column}: {row.reference}")
        elif result.status == "ambiguous":
            click.echo(f"{result.asked}: ambiguous, {len(result.keys)} different references have keys starting "
                       f"with it ({', '.join(result.keys)}); ask with a full key")
        else:
            click.echo(f"{result.asked}: not found in {source_dir.name}")


from pipelines import cli_admin  # noqa: E402,F401  (registers `users` and `audit`)

if __name__ == "__main__":
    # Run as `python -m pipelines.cli`: the commands registered by other modules live on the
    # imported module's group, not on this __main__ copy.
    from pipelines.cli import main as registered_main

    registered_main()
