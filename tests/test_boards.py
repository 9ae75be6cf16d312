"""Boards: which scenarios are ranked together, which models each ranks, and sites of several boards."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from effbench import analysis_tables, pipeline, store
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.boards import Board, BoardSettings, BoardSpec, form_boards, members, similar_model_names
from effbench.cli import app
from effbench.config import load_config
from effbench.errors import EffbenchError

from helm_suite import MODELS, SCENARIOS, write_suite

FORMATS = Path(__file__).parent / "data" / "formats"
FAST = {"parameters": AnalysisParameters(n_resamples=200), "dior_parameters": DiorParameters(n_draws=20)}
runner = CliRunner()


def sets(**scenarios: str) -> dict[str, frozenset[str]]:
    """Model sets from letters: sets(a="xyz") is scenario a with models x, y and z."""
    return {name: frozenset(models) for name, models in scenarios.items()}


def test_scenarios_with_the_same_models_form_one_board_and_unrelated_ones_their_own():
    boards = form_boards(sets(a="xyz", b="xyz", c="xyz", d="pq", e="p"))
    assert [b.scenarios for b in boards] == [("a", "b", "c"), ("d",), ("e",)]
    assert [b.ranked for b in boards] == [("x", "y", "z"), ("p", "q"), ("p",)]


def test_a_scenario_one_model_lacks_stays_on_the_board_and_the_model_is_partial():
    boards = form_boards(sets(a="vwxyz", b="vwxyz", c="vwxy"))
    assert len(boards) == 1 and boards[0].ranked == tuple("vwxyz") and boards[0].unranked == ()


def test_a_scenario_of_one_model_joins_only_scenarios_of_that_same_model():
    # {x} and {x, y} overlap by exactly half: not more than half, so apart; y never inherits x's score.
    assert [b.scenarios for b in form_boards(sets(a="xy", b="x"))] == [("a",), ("b",)]
    assert [b.scenarios for b in form_boards(sets(a="x", b="x"))] == [("a", "b")]


def test_a_board_records_which_scenarios_its_ranked_partial_models_lack():
    board = form_boards(sets(a="xyz", b="xyz", c="xy"))[0]
    assert board.ranked == ("x", "y", "z") and board.partial == (("z", ("c",)),)


def test_the_missing_policy_decides_who_is_ranked():
    model_sets = sets(a="xyz", b="xyz", c="xy", d="xy")  # z lacks half the scenarios
    assert members(("a", "b", "c", "d"), model_sets, "lowest-if-half") == (("x", "y", "z"), ())
    assert members(("a", "b", "c", "d"), model_sets, "exclude") == (("x", "y"), (("z", ("c", "d")),))
    three = sets(a="xyz", b="xy", c="xy")  # z has one of three: less than half
    assert members(("a", "b", "c"), three, "lowest-if-half") == (("x", "y"), (("z", ("b", "c")),))
    assert members(("a", "b", "c"), three, "lowest") == (("x", "y", "z"), ())


def test_no_score_is_filled_from_a_scenario_of_fewer_than_two_models():
    assert members(("a", "b"), sets(a="xyz", b="x"), "lowest") == (("x",), (("y", ("b",)), ("z", ("b",))))


def test_declared_boards_take_names_globs_and_tags_and_the_rest_forms_boards():
    model_sets = sets(**{"mmlu:math": "xy", "mmlu:law": "xy", "bbq": "xy", "other": "pq"})
    declared = (BoardSpec("knowledge", "Knowledge", "MMLU subjects", ("mmlu:*",)),
                BoardSpec("safety", None, None, ("safety-group",), "exclude"))
    boards = form_boards(model_sets, declared=declared, tags={"bbq": ("safety-group",)})
    assert [(b.name, b.scenarios, b.declared) for b in boards] == [
        ("knowledge", ("mmlu:law", "mmlu:math"), True), ("safety", ("bbq",), True), ("table-other", ("other",), False)]
    assert boards[1].missing == "exclude" and boards[0].title == "Knowledge"
    with pytest.raises(ValueError, match="'nothing': no scenario matches 'gsm8k'"):
        form_boards(model_sets, declared=(BoardSpec("nothing", scenarios=("gsm8k",)),))
    with pytest.raises(ValueError, match="'typo': no scenario matches 'bqq'"):  # one mistyped name of several
        form_boards(model_sets, declared=(BoardSpec("typo", scenarios=("bbq", "bqq")),))


def test_formed_boards_are_named_after_their_origin():
    boards = form_boards(sets(**{"bbq:subject=all": "xy", "alpaca_eval": "pq"}),
                         origin_of=lambda s: "helm" if s.startswith("bbq") else "alpaca-eval")
    assert [(b.name, b.title) for b in boards] == [("alpaca-eval-alpaca_eval", "AlpacaEval: alpaca_eval"),
                                                   ("helm-bbq", "HELM: bbq")]


def test_names_that_differ_only_by_case_spacing_or_organisation_are_found():
    assert similar_model_names(["openai/gpt-4o", "gpt-4o", "GPT 4o", "claude", "Claude-2"]) == [
        ("GPT 4o", "gpt-4o", "openai/gpt-4o")]
    assert similar_model_names(["Yi-6B", "yi-6b"]) == []  # case alone: the load warns about these already


def test_settings_declare_boards_and_the_policy(tmp_path):
    settings = tmp_path / "effbench.toml"
    settings.write_text('[ranking]\nmissing = "exclude"\n\n[[boards]]\nname = "safety"\nscenarios = ["bbq*"]\n')
    config = load_config(settings)
    assert config.missing == "exclude" and config.boards == (BoardSpec("safety", scenarios=("bbq*",)),)
    for text, message in (('[ranking]\nmissing = "zero"\n', "missing must be one of"),
                          ('[[boards]]\nname = "a"\n', "scenarios must be a list"),
                          ('[[boards]]\nname = "a"\nscenarios = ["x"]\ncolour = 1\n', "unknown setting"),
                          ('[[boards]]\nname = "a"\nscenarios = ["x"]\n[[boards]]\nname = "a"\nscenarios = ["y"]\n',
                           "declared twice")):
        settings.write_text(text)
        with pytest.raises(EffbenchError, match=message):
            load_config(settings)


def board_rows(db: Path, board: str | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        where = "" if board is None else f" WHERE board = '{board}'"
        return con.execute(f"SELECT model, rank, rank_lo, rank_hi, score, score_lo, score_hi, partial FROM leaderboard"
                           f"{where} ORDER BY rank, model").fetchall()


@pytest.fixture(scope="module")
def helm_only(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("helm-only")
    suite = write_suite(folder)
    db = folder / "helm.duckdb"
    pipeline.update(db, pipeline.result_sources([suite]), all_analyses=False, **{"parameters": FAST["parameters"]})
    return suite, db


@pytest.fixture(scope="module")
def five_sources(tmp_path_factory, helm_only) -> pipeline.BuildReport:
    """A HELM suite, AlpacaEval judgements, an lm-eval run, two Inspect logs and Every Eval Ever files."""
    folder = tmp_path_factory.mktemp("five")
    suite, _ = helm_only
    inspect_logs = [FORMATS / "inspect" / "2025-02-11T15-18-04-05-00_popularity_mj7khqpMM4GBCfVQozKgzB.eval",
                    FORMATS / "inspect" / "data_arc_qwen.json"]
    sources = [suite, FORMATS / "alpaca_eval" / "alpaca-7b", FORMATS / "lm_eval" / "pythia-14m-v0.4.0",
               *inspect_logs, FORMATS / "every_eval_ever" / "pair_v0.3.0"]
    return pipeline.build(folder / "five.duckdb", folder / "site", pipeline.result_sources(sources), **FAST)


def test_unrelated_sources_form_separate_boards_and_the_helm_board_equals_a_helm_only_build(helm_only,
                                                                                            five_sources):
    _, helm_db = helm_only
    db = five_sources.out.parent / "five.duckdb"
    boards = five_sources.update.boards
    assert len(boards) == 6
    helm = next(b for b in boards if set(b.scenarios) == set(SCENARIOS))
    assert board_rows(db, helm.name) == board_rows(helm_db)
    with duckdb.connect(str(db), read_only=True) as con:
        # No model is on a board it has no results on, and every model has a rank on one board at most once.
        stray = con.execute(
            "SELECT l.board, l.model FROM leaderboard AS l WHERE NOT EXISTS (SELECT 1 FROM scores AS s"
            " JOIN boards AS b USING (scenario) WHERE b.board = l.board AND s.model = l.model AND s.score IS NOT NULL)"
        ).fetchall()
        assert stray == []
        # No score was filled in: no board ranks a model that lacks one of its scenarios (all are complete here).
        assert con.execute("SELECT count(*) FROM leaderboard WHERE partial").fetchone()[0] == 0
        assert con.execute("SELECT count(DISTINCT board) FROM rank_intervals").fetchone()[0] == 6
        for table in ("dior", "flash_summary", "scenario_intervals", "analyses"):
            assert con.execute(f"SELECT count(*) FROM {table} WHERE board IS NULL").fetchone()[0] == 0


def test_a_site_of_several_boards_has_an_overview_and_a_folder_per_board(five_sources):
    site = five_sources.out
    overview = (site / "index.html").read_text()
    boards = five_sources.update.boards
    for board in boards:
        folder = site / "boards" / board.slug
        assert (folder / "index.html").is_file() and (folder / "data" / "leaderboard.csv").is_file()
        assert f'href="boards/{board.slug}/index.html"' in overview
        page = (folder / "index.html").read_text()
        assert 'href="../../static/style.css"' in page and 'href="../../index.html">All boards' in page
    assert (site / "data" / "effbench.duckdb").is_file() and not list(site.glob("boards/*/data/effbench.duckdb"))
    helm = next(b for b in boards if set(b.scenarios) == set(SCENARIOS))
    model_page = (site / "boards" / helm.slug / "models" / "openai-gpt-4o.html").read_text()
    assert "All boards</a> › <a" in model_page and helm.title in model_page


def test_a_model_on_two_boards_lists_its_place_on_each(tmp_path):
    suite = write_suite(tmp_path)
    other = tmp_path / "other.csv"
    rows = [f"{m},coding,c{i},{(i + k) % 2}" for k, m in enumerate(("openai/gpt-4o", "x/coder-a", "x/coder-b",
                                                                     "x/coder-c")) for i in range(6)]
    other.write_text("model,scenario,item_id,score\n" + "\n".join(rows) + "\n")
    report = pipeline.build(tmp_path / "two.duckdb", tmp_path / "site", pipeline.result_sources([suite, other]),
                            **FAST)
    assert len(report.update.boards) == 2
    coding = next(b for b in report.update.boards if b.scenarios == ("coding",))
    page = (report.out / "boards" / coding.slug / "models" / "openai-gpt-4o.html").read_text()
    assert "On each board" in page and 'href="../../helm-anthropic_red_team/models/openai-gpt-4o.html"' in page


def test_a_suite_with_one_run_missing_is_one_board_with_that_model_partial(tmp_path):
    suite = write_suite(tmp_path, skip=((MODELS[0], "xstest"),))
    db = tmp_path / "e.duckdb"
    report = pipeline.update(db, pipeline.result_sources([suite]), all_analyses=False, **FAST)
    assert len(report.boards) == 1 and report.boards[0].unranked == ()
    rows = {r[0]: r for r in board_rows(db)}
    assert rows[MODELS[0]][-1] is True  # partial
    with duckdb.connect(str(db), read_only=True) as con:
        means = con.execute("SELECT model, scenario, avg(score) FROM scores GROUP BY ALL").fetchall()
    by_model: dict[str, dict[str, float]] = {}
    for model, scenario, mean in means:
        by_model.setdefault(model, {})[scenario] = mean
    partial = by_model[MODELS[0]]
    for model, scores in by_model.items():  # every model at least as good on all shared scenarios ranks above
        if model != MODELS[0] and all(scores[s] >= partial[s] for s in partial):
            assert rows[model][1] < rows[MODELS[0]][1]


def test_a_model_with_too_few_scenarios_is_listed_but_not_ranked(tmp_path):
    suite = write_suite(tmp_path, skip=tuple((MODELS[0], s) for s in SCENARIOS[:3]))
    report = pipeline.build(tmp_path / "e.duckdb", tmp_path / "site", pipeline.result_sources([suite]), **FAST)
    board = report.update.boards[0]
    assert board.unranked == ((MODELS[0], SCENARIOS[:3]),) and MODELS[0] not in board.ranked
    assert MODELS[0] not in {r[0] for r in board_rows(tmp_path / "e.duckdb")}
    index = (report.out / "index.html").read_text()
    assert "Not ranked here" in index and f"{MODELS[0]}: no results in {', '.join(SCENARIOS[:3])}" in index
    assert "fewer than half of its scenarios" in index
    with duckdb.connect(str(tmp_path / "e.duckdb"), read_only=True) as con:
        row = con.execute("SELECT ranked, no_results_in FROM board_models WHERE model = ?", [MODELS[0]]).fetchone()
        assert row == (False, list(SCENARIOS[:3]))
    plan = runner.invoke(app, ["flash", "plan", MODELS[0], "--db", str(tmp_path / "e.duckdb"),
                               "--out", str(tmp_path / "n.csv")])
    assert plan.exit_code == 1 and "is not ranked there (no results in" in plan.output


def test_a_board_that_ranks_only_complete_models_says_so(tmp_path):
    suite = write_suite(tmp_path, skip=((MODELS[0], "xstest"),))
    settings = tmp_path / "effbench.toml"
    settings.write_text('[[boards]]\nname = "safety"\ntitle = "Safety"\ndescription = "Five safety scenarios."\n'
                        'scenarios = ["*"]\nmissing = "exclude"\n')
    result = runner.invoke(app, ["build", str(suite), "--db", str(tmp_path / "e.duckdb"), "--out",
                                 str(tmp_path / "site"), "--config", str(settings), "--resamples", "100"])
    assert result.exit_code == 0, result.output
    assert "1 board:" in result.output and "boards, ranked apart" not in result.output
    index = (tmp_path / "site" / "index.html").read_text()
    assert "Only models with results in every scenario are ranked here." in index
    assert "counts at the lowest score" not in index and "but not in every one of its scenarios" in index


def test_commands_take_a_board_where_there_are_several(five_sources, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(five_sources.out.parent / "five.duckdb", db)
    result = runner.invoke(app, ["flash", "status", "--db", str(db)])
    assert result.exit_code == 1 and "choose one with --board" in result.output
    helm = next(b for b in five_sources.update.boards if set(b.scenarios) == set(SCENARIOS))
    result = runner.invoke(app, ["flash", "status", "--db", str(db), "--board", helm.name])
    assert result.exit_code == 0 and "openai/gpt-4o" in result.output and "alpaca-7b" not in result.output
    result = runner.invoke(app, ["dior", "--db", str(db), "--board", "no-such-board"])
    assert result.exit_code == 1 and "no board named 'no-such-board'" in result.output
    # A model on one board only needs no --board; a model on none is told so, not given a list of boards.
    plan = runner.invoke(app, ["flash", "plan", "openai/gpt-4o", "--db", str(db), "--out", str(tmp_path / "n.csv")])
    assert plan.exit_code == 0, plan.output
    plan = runner.invoke(app, ["flash", "plan", "nobody", "--db", str(db), "--out", str(tmp_path / "n.csv")])
    assert plan.exit_code == 1 and "nobody has no results on any board; to start it as a new model, add --new" in (
        plan.output)


def test_the_load_report_names_the_boards_and_names_that_look_alike(tmp_path):
    results = tmp_path / "r.csv"
    results.write_text("model,scenario,item_id,score\n" + "".join(
        f"{m},{s},{i},{(i * 7 + len(m)) % 2}\n" for m, s in (("openai/gpt-4o", "a"), ("llama", "a"), ("gpt-4o", "b"),
                                                             ("mistral", "b")) for i in range(5)))
    result = runner.invoke(app, ["ingest", str(results), "--db", str(tmp_path / "e.duckdb")])
    assert result.exit_code == 0, result.output
    assert "2 boards, each ranked on its own" in result.output and "table-a" in result.output
    assert "'gpt-4o', 'openai/gpt-4o' differ only by case, spacing or an organisation prefix" in result.output


def test_stored_boards_round_trip_and_unchanged_boards_are_not_rewritten(helm_only):
    _, db = helm_only
    with store.open_store(db) as con:
        boards = store.stored_boards(con)
        assert len(boards) == 1 and isinstance(boards[0], Board) and boards[0].ranked == tuple(sorted(MODELS))
        before = con.execute("SELECT count(*) FROM analyses").fetchone()[0]
        assert pipeline.refresh_boards(con, analysis_tables.model_sets(con), BoardSettings()) == boards
        assert con.execute("SELECT count(*) FROM analyses").fetchone()[0] == before


def test_boards_and_their_sizes_from_sql_equal_those_of_the_results_matrix(five_sources):
    """A build forms boards and counts their items in SQL, so that a rebuild of unchanged data reads no results
    (seconds on a board of 100 million): the same model sets and item counts as the results matrix gives."""
    from effbench.boards import board_results, model_sets

    db = five_sources.out.parent / "five.duckdb"
    with store.open_store(db, read_only=True) as con:
        matrix = analysis_tables.results_matrix(con)
        assert analysis_tables.model_sets(con) == model_sets(matrix)
        assert list(analysis_tables.model_sets(con)) == list(matrix.scenarios)
        for board in store.stored_boards(con):
            results = board_results(matrix, board)
            assert analysis_tables.board_item_count(con, board) == sum(
                m.shape[0] for m, per_item in zip(results.scores, results.resampled, strict=True) if per_item)
    assert len(five_sources.update.boards) > 1 and min(five_sources.update.board_items) > 0


def test_a_rebuild_of_unchanged_data_reads_no_results(five_sources, monkeypatch):
    """Nothing that scans every result runs again when nothing changed: the results matrix, the model sets, the
    item counts, the warnings about scales and identical models (each seconds at 100 million results)."""
    from effbench import history

    db = five_sources.out.parent / "five.duckdb"
    with store.open_store(db, read_only=True) as con:
        leaderboard = con.execute("SELECT board, model, rank, rank_lo, rank_hi, score, score_lo, score_hi"
                                  " FROM leaderboard").df()
        assert history._current(con)[0].equals(leaderboard)  # the history reads the view's rows from their table

    def refuse(*args, **kwargs):
        raise AssertionError("every result was scanned again")

    for module, name in ((analysis_tables, "results_matrix"), (analysis_tables, "model_sets"),
                         (analysis_tables, "board_item_count"), (store, "scale_warnings"),
                         (store, "identical_model_warnings")):
        monkeypatch.setattr(module, name, refuse)
    report = pipeline.update(db, **FAST)
    assert not report.recomputed and report.boards == five_sources.update.boards
    assert report.board_items == five_sources.update.board_items and report.warnings == five_sources.update.warnings
    with pytest.raises(AssertionError, match="scanned again"):  # other board settings: formed again
        pipeline.update(db, board_settings=BoardSettings(missing="exclude"), **FAST)
