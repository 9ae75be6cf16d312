"""`effbench publish`, `init` and `serve`: the built site to GitHub Pages, or previewed locally."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from effbench.cli.common import DbOption, fail, say
from effbench.errors import EffbenchError
from effbench.publish import init as init_project
from effbench.publish import preview_server
from effbench.publish import publish as publish_site


def publish(
    out: Annotated[Path, typer.Option("--out", help="The built site folder.")] = Path("site"),
    remote: Annotated[str, typer.Option("--remote", help="Git remote to push to.")] = "origin",
    branch: Annotated[str, typer.Option("--branch", help="Branch that holds the site.")] = "gh-pages",
    no_push: Annotated[bool, typer.Option("--no-push", help="Commit to the branch but do not push.")] = False,
    message: Annotated[str | None, typer.Option("--message", help="Commit message.")] = None,
) -> None:
    """Commit the built site to a branch of this git repository (history kept) and push it.

    GitHub Pages then serves the branch (Settings > Pages > Deploy from a branch: gh-pages, / (root)).
    Your working tree, current branch and staged changes are not touched.

    Examples:

      effbench build && effbench publish

      effbench publish --remote upstream --branch gh-pages
    """
    try:
        report = publish_site(out, remote=None if no_push else remote, branch=branch, message=message)
    except EffbenchError as error:
        raise fail(error) from None
    where = f", pushed to {report.pushed_to}" if report.pushed_to else ""
    if not report.changed:
        say(f"{out}/ is unchanged since {report.branch}'s last commit {report.commit[:12]}: nothing to "
                   f"commit{where}")
        return
    say(f"{out}/ committed to {report.branch} as {report.commit[:12]}{where}")


def init(
    folder: Annotated[Path, typer.Argument(help="The repository's folder.")] = Path("."),
    install: Annotated[
        str | None,
        typer.Option("--install", help="What the workflow installs with pip (default: the effbench running now, "
                     "pinned: its git commit, or its version from the package index)."),
    ] = None,
    sources: Annotated[
        str | None,
        typer.Option("--sources", help="Arguments of `effbench build` in the workflow (default: the files "
                     "./effbench.duckdb was built from)."),
    ] = None,
    branch: Annotated[
        str | None, typer.Option("--branch", help="Branch whose pushes rebuild the site (default: the default one).")
    ] = None,
    db: DbOption = Path("effbench.duckdb"),
    force: Annotated[bool, typer.Option("--force", help="Replace files that exist.")] = False,
) -> None:
    """Write effbench.toml and a GitHub Actions workflow that builds the site and deploys it to Pages.

    The workflow installs the effbench you run now, builds from your data (the files your
    effbench.duckdb was built from, or --sources), runs on pushes to the repository's default branch,
    and the built site and database are added to .gitignore.

    Examples:

      effbench init

      effbench init --sources "results/*.parquet --models models.csv"

      effbench init --install "git+https://github.com/OWNER/effbench@v0.1.0"
    """
    try:
        report = init_project(folder, install=install, sources=sources, branch=branch,
                              db=db if db.is_absolute() or db.exists() else folder / db, force=force)
    except EffbenchError as error:
        raise fail(error) from None
    for path in report.written:
        say(f"wrote {path}")
    say(f"the workflow installs {report.install} ({report.install_reason})")
    say(f"it runs `effbench build {report.build}` ({report.build_reason}) on pushes to {report.branch}")
    if report.gitignore_added:
        say(f"added to {folder / '.gitignore'}: {', '.join(report.gitignore_added)}")
    say("next: commit these files and your data, push, and set Settings > Pages > Source to "
               '"GitHub Actions"')


def serve(
    out: Annotated[Path, typer.Option("--out", help="The built site folder.")] = Path("site"),
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1.")] = 8000,
) -> None:
    """Preview the built site at http://127.0.0.1:PORT/ (Ctrl-C stops it).

    Examples:

      effbench serve

      effbench serve --port 8080
    """
    try:
        server = preview_server(out, port=port)
    except EffbenchError as error:
        raise fail(error) from None
    say(f"serving {out}/ at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
