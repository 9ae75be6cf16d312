"""Rendering the planned pages with Jinja and writing the site with the strict `SiteWriter`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2

from effbench.database_copy import write_public_copy
from effbench.render.contexts import SitePlan
from effbench.writer import SiteWriter


def templates_dir() -> Path:
    """Return the folder of the Jinja templates: inside the installed package, else the source tree's."""
    packaged = Path(str(resources.files("effbench") / "templates"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "templates"


def template_environment() -> jinja2.Environment:
    """Return the Jinja environment: autoescaping on, and an error for any undefined name.

    `tojson` writes JSON that is safe inside a <script> element (it escapes <, >, & and '), compact,
    ASCII only (a raw U+2028 breaks a script in older browsers) and without NaN, which JSON lacks.
    """
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.policies["json.dumps_kwargs"] = {"separators": (",", ":"), "ensure_ascii": True, "allow_nan": False}
    return environment


def write_site(plan: SitePlan, out: Path, database: Path) -> list[str]:
    """Render and write `plan` into `out` (replacing a previous build), with a copy of `database`;
    return the site paths written."""
    environment = template_environment()
    writer = SiteWriter(out)
    try:
        for page in plan.pages:
            html = environment.get_template(page.page.template).render(ctx=page)
            writer.write_text(page.page.path, html)
        for download in plan.downloads:
            if download.table is None:
                write_public_copy(database, writer.new_file(download.path))
            elif download.path.endswith(".csv"):
                writer.write_text(download.path, download.table.to_csv())
            elif download.path.endswith(".parquet"):
                download.table.write_parquet(writer.new_file(download.path))
            else:
                writer.write_text(download.path, download.table.to_json())
        for site_path, source in plan.licenses:
            writer.copy_file(site_path, source)
        for site_path, text in plan.extra_files.items():
            writer.write_text(site_path, text)
        static = templates_dir() / "static"
        for asset in sorted(static.iterdir()):
            writer.copy_file(f"static/{asset.name}", asset)
        written = writer.written
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    return written
