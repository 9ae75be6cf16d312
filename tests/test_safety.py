"""Hostile names and crashed builds: names load as they are (stripped), render as inert text in HTML, SVG,
JSON and CSV, get distinct bounded page names; an interrupted build never loses the site."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from effbench import analysis_tables, pipeline, store
from effbench.errors import EffbenchError
from effbench.flash import FlashConfig
from effbench.load import Source
from effbench.render.values import FORMULA_STARTS, Table
from effbench.urls import MAX_SLUG_LENGTH, unique_slugs
from effbench.writer import PARTIAL_MARKER, SITE_MARKER, SiteWriter, check_replaceable

from conftest import long_rows, write_csv

LONG_NAME = "L" * 251  # made every later build fail with "File name too long"
HOSTILE = [
    "=cmd|' /C calc'!A0", "@SUM(1+1)", "+HYPERLINK(\"http://x.invalid\",\"x\")", "-2+3",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>", "</svg><svg onload=alert(3)>",
    "{{ 7*7 }}", "javascript:alert(4)", "\u202eevil\u202c", "Yi-6B 🚀", LONG_NAME,
]
GHOST = "ghost-model"  # every score blank: listed, not ranked
FAST = dict(parameters=analysis_tables.AnalysisParameters(n_resamples=30),
            dior_parameters=analysis_tables.DiorParameters(n_draws=10), flash_config=FlashConfig(n_resamples=30))


def build_hostile_site(root: Path, names: list[str] = HOSTILE) -> pipeline.BuildReport:
    """Build a small site whose models and scenarios carry `names` (every model evaluated on every scenario,
    so that they are one board), with an all-blank model and a lower-is-better scenario."""
    scores = {name: {"qa": [(i + k) % 2 for k in range(6)],
                     **{scenario: [(i * k + j) % 3 / 2 for k in range(6)] for j, scenario in enumerate(names)},
                     "latency": [1.0 + i + k for k in range(6)]} for i, name in enumerate(names)}
    rows = long_rows(scores) + long_rows({GHOST: {"qa": [None] * 6}})
    results = write_csv(root / "hostile.csv", rows)
    return pipeline.build(root / "e.duckdb", root / "site", [Source(results)], lower_is_better=["latency"], **FAST)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    return build_hostile_site(tmp_path_factory.mktemp("hostile")).out


class Markup(HTMLParser):
    """Collects the tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.json_blocks: list[str] = []  # the contents of <script type="application/json">
        self._in_json = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_json = tag == "script" and dict(attrs).get("type") == "application/json"
        if self._in_json:
            self.json_blocks.append("")

    def handle_endtag(self, tag):
        self._in_json = False

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if self._in_json:
            self.json_blocks[-1] += data
        else:
            self.text.append(data)


def parse(text: str) -> Markup:
    markup = Markup()
    markup.feed(text)
    markup.close()
    return markup


def assert_inert(page: Path) -> Markup:
    """Assert the page runs nothing but the site's own scripts: no handlers, no javascript: links, and
    data blocks that are whole JSON."""
    markup = parse(page.read_text(encoding="utf-8"))
    for block in markup.json_blocks:
        json.loads(block)
    for tag, attrs in markup.tags:
        assert not [name for name in attrs if name.startswith("on")], (page, tag, attrs)
        assert tag not in {"img", "iframe", "object", "embed"}, (page, tag)
        if tag == "script" and attrs.get("type") != "application/json":
            assert re.fullmatch(r"(\.\./)*static/[a-z]+\.js", attrs.get("src") or ""), (page, attrs)
        for name in ("href", "src", "xlink:href", "action"):
            assert not (attrs.get(name) or "").strip().lower().startswith("javascript:"), (page, attrs)
    return markup


def test_hostile_names_render_as_inert_text_in_html_and_svg(hostile_site):
    pages = sorted(hostile_site.rglob("*.html")) + sorted(hostile_site.rglob("*.svg"))
    assert len(pages) > 10
    texts = {page: "".join(assert_inert(page).text) for page in pages}
    index = texts[hostile_site / "index.html"]
    for name in HOSTILE:
        assert name in index, name  # shown as text, exactly
    assert sum("<script>alert(1)</script>" in text for text in texts.values()) > 1


def test_page_file_names_are_bounded_and_a_251_character_name_builds(hostile_site):
    """Case 2: the long name's page exists under a bounded name (it crashed every build before)."""
    names = [path.name for path in hostile_site.rglob("*")]
    assert max(len(name.encode()) for name in names) <= MAX_SLUG_LENGTH + len(".parquet") + 4
    index = (hostile_site / "index.html").read_text(encoding="utf-8")
    link = re.search(r'href="(models/[^"]+)"[^>]*>' + LONG_NAME, index)
    assert link and (hostile_site / link.group(1)).is_file()


def test_csv_downloads_neutralise_formulas_while_json_and_parquet_keep_names_exactly(hostile_site):
    """Case 7: cells starting with = + - @ reach the CSV behind an apostrophe."""
    with open(hostile_site / "data" / "leaderboard.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    models = {row["model"] for row in rows}
    assert {"'=cmd|' /C calc'!A0", "'@SUM(1+1)", "'+HYPERLINK(\"http://x.invalid\",\"x\")", "'-2+3"} <= models
    for path in hostile_site.rglob("*.csv"):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))):
            assert not [cell for cell in row if cell.startswith(FORMULA_STARTS) and not is_number(cell)], (path, row)
    board = json.loads((hostile_site / "data" / "leaderboard.json").read_text(encoding="utf-8"))
    assert set(HOSTILE) <= {row["model"] for row in board}
    parquet = hostile_site / "data" / "leaderboard.parquet"
    assert set(HOSTILE) <= {r[0] for r in duckdb.execute(f"SELECT model FROM '{parquet}'").fetchall()}
    con = duckdb.connect(str(hostile_site / "data" / "effbench.duckdb"), read_only=True)
    try:
        assert set(HOSTILE) <= {r[0] for r in con.execute("SELECT model FROM models").fetchall()}
    finally:
        con.close()


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_a_model_whose_scores_are_all_blank_is_listed_with_a_note(hostile_site):
    """Case 9: it is not ranked, and the leaderboard says so instead of leaving it out silently."""
    text = "".join(parse((hostile_site / "index.html").read_text(encoding="utf-8")).text)
    assert f"every one of their scores is blank (not evaluated): {GHOST}" in text


def test_the_site_says_which_scenarios_are_lower_is_better(hostile_site):
    text = "".join(parse((hostile_site / "index.html").read_text(encoding="utf-8")).text)
    assert "Lower scores are better in latency" in text
    page = "".join(parse((hostile_site / "scenarios" / "latency.html").read_text(encoding="utf-8")).text)
    assert "Lower scores are better here" in page
    assert "Lower scores are better" not in (hostile_site / "scenarios" / "qa.html").read_text(encoding="utf-8")


# Properties ---------------------------------------------------------------------------------------

NAMES = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=120).filter(str.strip)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=12))
def test_page_names_are_distinct_bounded_and_plain(names):
    slugs = unique_slugs(names)
    assert len(set(slugs.values())) == len(set(names))
    for slug in slugs.values():
        assert re.fullmatch(r"[a-z0-9._-]+", slug) and not slug.startswith(".")
        assert len(slug) <= MAX_SLUG_LENGTH + 3


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=6))
def test_csv_twin_neutralises_formulas_and_json_twin_keeps_text(values):
    table = Table("t", ("model", "score"), tuple({"model": v, "score": 0.5} for v in values))
    parsed = list(csv.reader(io.StringIO(table.to_csv(), newline="")))
    assert parsed[0] == ["model", "score"]
    for value, row in zip(values, parsed[1:], strict=True):
        cell = row[0]
        assert not cell.startswith(FORMULA_STARTS)
        expected = "'" + value if value.startswith(FORMULA_STARTS) else value
        assert cell == expected
    assert [r["model"] for r in json.loads(table.to_json())] == values


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(NAMES, min_size=1, max_size=8))
def test_arbitrary_unicode_names_load_stripped_of_surrounding_spaces(tmp_path_factory, names):
    root = tmp_path_factory.mktemp("names")
    frame = pd.DataFrame({"model": names, "scenario": names[::-1], "item_id": [str(i) for i in range(len(names))],
                          "score": [1.0] * len(names)})
    path = root / "names.parquet"
    duckdb.from_df(frame).write_parquet(str(path))
    with store.open_store(root / "e.duckdb") as con:
        store.ingest(con, [Source(path)])
        stored = {r[0] for r in con.execute("SELECT model FROM scores").fetchall()}
        scenarios = {r[0] for r in con.execute("SELECT scenario FROM scores").fetchall()}
    assert stored == {name.strip() for name in names}
    assert scenarios == {name.strip() for name in names}


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(NAMES, min_size=2, max_size=4, unique_by=lambda n: n.strip()))
def test_arbitrary_names_render_inert_in_a_built_site(tmp_path_factory, names):
    root = tmp_path_factory.mktemp("site")
    out = build_hostile_site(root, names).out
    for page in sorted(out.rglob("*.html")):
        assert_inert(page)
    text = "".join(parse((out / "index.html").read_text(encoding="utf-8")).text)
    assert all(name.strip() in text for name in names)
    board = json.loads((out / "data" / "leaderboard.json").read_text(encoding="utf-8"))
    assert {row["model"] for row in board} == {name.strip() for name in names}


# Interrupted builds (case 10) -----------------------------------------------------------------

CRASH = """
import os, signal, sys
from pathlib import Path
from effbench.writer import SiteWriter
out = Path(sys.argv[1])
writer = SiteWriter(out)
writer.write_text("index.html", "new")
if sys.argv[2] == "between-renames":
    rename = Path.rename
    def rename_then_die(self, target):
        rename(self, target)
        if Path(target).name.startswith(f".{out.name}-old-"):
            os.kill(os.getpid(), signal.SIGKILL)
    Path.rename = rename_then_die
    writer.commit()
os.kill(os.getpid(), signal.SIGKILL)
"""


def crash(out: Path, when: str) -> None:
    result = subprocess.run([sys.executable, "-c", CRASH, str(out), when], capture_output=True, text=True)
    assert result.returncode == -9, result.stderr


def old_site(out: Path) -> Path:
    writer = SiteWriter(out)
    writer.write_text("index.html", "old")
    writer.commit()
    return out


def test_a_killed_render_leaves_nothing_after_the_next_build(tmp_path):
    out = old_site(tmp_path / "site")
    crash(out, "while-writing")
    assert len(list(tmp_path.iterdir())) == 2  # the site and the killed build's folder
    check_replaceable(out)  # what every build does first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert (out / "index.html").read_text() == "old"


def test_a_crash_between_the_renames_of_the_swap_keeps_the_site(tmp_path):
    out = old_site(tmp_path / "site")
    crash(out, "between-renames")
    assert not out.exists()  # the moment the swap is vulnerable
    check_replaceable(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert (out / "index.html").read_text() == "old" and (out / SITE_MARKER).is_file()


def test_a_running_build_keeps_its_folder(tmp_path):
    out = tmp_path / "site"
    writer = SiteWriter(out)
    writer.write_text("index.html", "new")
    check_replaceable(out)  # another build starting meanwhile in this process
    writer.commit()
    assert (out / "index.html").read_text() == "new"
    assert os.listdir(tmp_path) == ["site"]


def test_a_killed_build_its_parent_has_not_reaped_is_cleaned_up(tmp_path):
    """kill -9 of a build run from a script that has not waited for it yet leaves a zombie whose id
    still answers kill(pid, 0): its folder is a leftover all the same."""
    out = old_site(tmp_path / "site")
    child = subprocess.Popen([sys.executable, "-c", CRASH, str(out), "while-writing"])
    try:
        for _ in range(600):  # until it has killed itself; no wait(), so it stays a zombie
            if Path(f"/proc/{child.pid}/stat").read_text().split(") ")[1].startswith("Z"):
                break
            time.sleep(0.05)
        check_replaceable(out)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    finally:
        child.wait()


def test_a_folder_whose_process_id_was_reused_is_cleaned_up(tmp_path):
    out = old_site(tmp_path / "site")
    younger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        left = tmp_path / f".site-{younger.pid}-abc123"
        left.mkdir()
        (left / PARTIAL_MARKER).write_text("")
        an_hour_ago = time.time() - 3600
        os.utime(left / PARTIAL_MARKER, (an_hour_ago, an_hour_ago))
        check_replaceable(out)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    finally:
        younger.kill()
        younger.wait()


def test_an_empty_folder_of_a_build_killed_before_marking_it_is_cleaned_up(tmp_path):
    out = old_site(tmp_path / "site")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / f".site-{gone.stdout.strip()}-xyz789").mkdir()
    check_replaceable(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_refused_input_leaves_a_dangling_db_symlink_as_it_was(tmp_path):
    link, target = tmp_path / "e.duckdb", tmp_path / "store" / "real.duckdb"
    target.parent.mkdir()
    link.symlink_to(target)
    bad = tmp_path / "bad.csv"
    bad.write_text("model,scenario,item_id,score\nx,qa,1,hello\n")
    with pytest.raises(EffbenchError):
        pipeline.update(link, [Source(bad)])
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert not target.exists() and list(target.parent.iterdir()) == []
