"""embed.html, a board's top models for an <iframe>: its rows are the leaderboard's, names stay text, and
the page is whole on its own (no script, nothing from another host, links to files of the site)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from effbench import pipeline
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.load import Source

from conftest import long_rows, write_csv

FAST = {"parameters": AnalysisParameters(n_resamples=100), "dior_parameters": DiorParameters(n_draws=10)}
HOSTILE = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>", "https://evil.example/x.js",
           "{{ 7*7 }}", "a&amp;b"]
# A board of twelve models, five of them with hostile names, and an unrelated board of three; on the first,
# the hostile ones first, so that they are among the ten shown.
FIRST_BOARD = {name: {"reading": [int(k < 8 - i // 2) for k in range(8)],
                      "maths": [int((k + i) % 8 < 8 - (i + 1) // 2) for k in range(8)]}
               for i, name in enumerate([*HOSTILE, *(f"model-{n}" for n in range(7))])}
SECOND_BOARD = {name: {"coding": scores} for name, scores in
                (("coder-a", [1, 1, 1, 0, 1, 1]), ("coder-b", [1, 0, 1, 0, 0, 1]), ("coder-c", [0, 0, 1, 0, 0, 0]))}


class Embed(HTMLParser):
    """The table rows (cell texts), the links (tag, attribute, URL, target) and the tags of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.links: list[tuple[str, str, str, str | None]] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._in_body = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        for name in ("href", "src", "action", "data"):
            if attrs.get(name) is not None:
                self.links.append((tag, name, attrs[name], attrs.get("target")))
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag in ("td", "th") and self._in_body:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def read(path: Path) -> Embed:
    return Embed(path.read_text(encoding="utf-8"))


def leaderboard(db: Path, board: str | None = None) -> list[tuple]:
    where = "" if board is None else " WHERE board = ?"
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT model, rank, rank_lo, rank_hi, score, score_lo, score_hi FROM leaderboard"
                           f"{where} ORDER BY rank, model", [] if board is None else [board]).fetchall()


def tier_label(rank: int) -> str:
    """The default tiers' labels (effbench.tiers), written out."""
    for first, last in ((1, 1), (2, 4), (5, 9), (10, 19)):
        if first <= rank <= last:
            return "rank 1" if first == last else f"ranks {first}-{last}"
    return "ranks 20 and below"


def expected_rows(rows: list[tuple]) -> list[list[str]]:
    """The embedded table's cells for leaderboard rows: rank (interval), model, score (interval), tier."""
    return [[f"{rank} ({lo}–{hi})", model, f"{score:.3f} ({score_lo:.3f}–{score_hi:.3f})", tier_label(rank)]
            for model, rank, lo, hi, score, score_lo, score_hi in rows]


def index_models(index: Path) -> list[str]:
    """The models of the index's rows, in its order."""
    return [html.unescape(name) for name in re.findall(r'<tr class="model-row" data-model="([^"]*)"',
                                                        index.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def two_boards(tmp_path_factory) -> pipeline.BuildReport:
    folder = tmp_path_factory.mktemp("embed-boards")
    sources = [Source(write_csv(folder / "first.csv", long_rows(FIRST_BOARD))),
               Source(write_csv(folder / "second.csv", long_rows(SECOND_BOARD)))]
    return pipeline.build(folder / "e.duckdb", folder / "site", sources, title="Two <boards> & more", **FAST)


def board_folders(report: pipeline.BuildReport) -> dict[str, Path]:
    return {board.name: report.out / "boards" / board.slug for board in report.update.boards}


def test_a_site_of_one_board_embeds_the_leaderboards_top_ten(example_build):
    site = example_build.out
    page = read(site / "embed.html")
    top = leaderboard(site.parent / "effbench.duckdb")[:10]
    assert len(page.rows) == 10
    assert page.rows == expected_rows(top)
    assert [row[1] for row in page.rows] == index_models(site / "index.html")[:10]  # the index's labels
    text = " ".join(" ".join(page.text).split())
    assert "The top 10 of 29 models by rank (1 = best), with their 95% bootstrap intervals" in text
    assert "Full leaderboard (29 models) · Last updated" in text


def test_a_site_of_two_boards_embeds_each_board_in_its_folder(two_boards):
    db = two_boards.out.parent / "e.duckdb"
    assert not (two_boards.out / "embed.html").exists()  # the overview is no board
    sizes = {}
    for board, folder in board_folders(two_boards).items():
        page = read(folder / "embed.html")
        rows = leaderboard(db, board)
        sizes[len(rows)] = len(page.rows)
        assert page.rows == expected_rows(rows[:10])
        assert [row[1] for row in page.rows] == index_models(folder / "index.html")[:10]
        assert ("<h1>Two &lt;boards&gt; &amp; more · " in (folder / "embed.html").read_text(encoding="utf-8"))
    assert sizes == {12: 10, 3: 3}  # the top ten, or every model of a smaller board


def test_hostile_model_names_stay_text(two_boards):
    first = next(folder for folder in board_folders(two_boards).values() if (folder / "models").is_dir()
                 and len(list((folder / "models").glob("*.html"))) == 12)
    text = (first / "embed.html").read_text(encoding="utf-8")
    page = read(first / "embed.html")
    assert {row[1] for row in page.rows} >= set(HOSTILE)
    for name in HOSTILE:
        assert "<" not in name or name not in text  # read back above as the names they are, so escaped
    assert not {"script", "img"} & set(page.tags)


def test_the_page_is_whole_on_its_own_and_its_links_reach_the_sites_files(example_build, two_boards):
    pages = [example_build.out / "embed.html", *(f / "embed.html" for f in board_folders(two_boards).values())]
    for path in pages:
        page = read(path)
        text = path.read_text(encoding="utf-8")
        assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags, path
        style = re.fullmatch(r".*<style>(.*)</style>.*", text, flags=re.S).group(1)
        assert "prefers-color-scheme: dark" in style and not re.search(r"url\(|@import|//", style), path
        assert page.links, path
        for tag, attribute, url, target in page.links:
            assert tag == "a" and attribute == "href" and target == "_top", (path, url)
            assert not re.match(r"[a-z]+:|/", url), (path, url)  # relative: nothing from another host
            assert (path.parent / url).resolve().is_file(), (path, url)
        assert ("a", "href", "index.html", "_top") in page.links


def test_the_index_shows_the_iframe_to_copy(example_build, two_boards):
    for folder in (example_build.out, *board_folders(two_boards).values()):
        index = read(folder / "index.html")
        assert ("a", "href", "embed.html", None) in index.links
        snippet = next(t for t in index.text if t.startswith("<iframe "))
        assert 'src="embed.html"' in snippet and 'width="600" height="400"' in snippet
        assert snippet.endswith("></iframe>")
        assert "iframe" not in index.tags  # shown as text to copy, not a frame of its own
    first = next(t for t in read(next(iter(board_folders(two_boards).values())) / "index.html").text
                 if t.startswith("<iframe "))
    assert 'title="Two &lt;boards&gt; &amp; more · ' in first  # escaped once more when pasted into a page


def test_results_without_items_give_ranks_without_intervals_and_say_so(tmp_path):
    table = Path(__file__).resolve().parent / "data" / "helm_lite_leaderboard.tsv"  # one aggregated score each
    report = pipeline.build(tmp_path / "e.duckdb", tmp_path / "site", [Source(table, "wide")], **FAST)
    page = read(report.out / "embed.html")
    top = leaderboard(tmp_path / "e.duckdb")[:10]
    assert [row[:2] for row in page.rows] == [[str(rank), model] for model, rank, *_ in top]
    assert [row[2] for row in page.rows] == [f"{score:.3f}" for *_, score, _, _ in top]
    assert "by rank (1 = best); no intervals: these results have no per-item data." in " ".join(page.text)
