"""The static site: typed page contexts from the stored analyses, rendered by Jinja templates.

`site_pages` computes every page (context, template, downloads) before anything is written;
`write_site` renders and writes them with the strict `SiteWriter`. Templates only display what a
context holds: every number arrives formatted, every link arrives relative.

Modules: `values` (cells, links, tables and their CSV/JSON/Parquet twins, formatting), `contexts`
(one dataclass per page type), `site_index` (what every page builder looks up), `leaderboard` (the
index page), `pages` (model, scenario and guide pages; `site_pages`), `boards` (sites of several
boards: each board in its folder, the overview in front), `analyses` (Reliability and Flash pages),
`compare` (the compare view), `provenance`, `trend_data` (the trend analyses as they arrive) and
`trends` (Scaling, Contamination and Groups pages), `write` (templates and files).
"""

from effbench.render.boards import BoardNav, overview_site
from effbench.render.contexts import SitePlan
from effbench.render.pages import site_pages
from effbench.render.trend_data import TrendAnalyses
from effbench.render.write import template_environment, templates_dir, write_site

__all__ = ["BoardNav", "SitePlan", "TrendAnalyses", "overview_site", "site_pages", "template_environment",
           "templates_dir", "write_site"]
