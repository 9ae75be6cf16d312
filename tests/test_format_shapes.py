"""The typed reading layer the format adapters share (`effbench.formats.shapes`): its messages, and every
adapter's real files with fields of other types, none of which may end in anything but `EffbenchError`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from harness_files import DEEP, FORMATS, HUGE, NOT_UTF8, change_json, copy_fixture

from effbench.errors import EffbenchError
from effbench.formats import ReadOptions, discover, plan_runs, read, shapes
from effbench.formats.shapes import LIST, NUMBER, OBJECT, SCALAR, TEXT, WHOLE

WHERE = "run/stats.json: entry 12"


@pytest.mark.parametrize(("entry", "name", "kind", "message"), [
    ({"count": "3"}, "count", NUMBER, "entry 12: field 'count' is a string ('3'), expected a number"),
    ({"count": None}, "count", NUMBER, "entry 12: field 'count' is null, expected a number"),
    ({"count": True}, "count", NUMBER, "entry 12: field 'count' is true/false, expected a number"),
    ({"count": HUGE}, "count", NUMBER, "entry 12: field 'count' is an integer too large to hold"),
    ({"index": 2**63}, "index", WHOLE, "entry 12: field 'index' is an integer too large to hold"),
    ({"name": ["em"]}, "name", TEXT, "entry 12: field 'name' is a list, expected a string"),
    ({"name": {"n": 1}}, "name", SCALAR, "entry 12: field 'name' is an object, expected a string or a number"),
    ({"groups": 5}, "groups", LIST, "entry 12: field 'groups' is a number, expected a list"),
    ({}, "stats", LIST, "entry 12: no field 'stats'"),
    ({"name": "x" * 50}, "name", OBJECT, f"field 'name' is a string ('{'x' * 40}...'), expected an object"),
])
def test_a_field_of_another_type_is_named_with_what_it_is(entry, name, kind, message):
    with pytest.raises(EffbenchError) as caught:
        shapes.field(entry, name, kind, WHERE)
    assert str(caught.value).startswith("run/stats.json: ") and str(caught.value).endswith(message)


def test_absent_and_null_fields_take_the_default_only_where_declared():
    assert shapes.field({}, "split", TEXT, WHERE, default=None) is None
    assert shapes.field({"split": None}, "split", TEXT, WHERE, default="test", nullable=True) == "test"
    assert shapes.field({"count": 3}, "count", NUMBER, WHERE) == 3
    assert shapes.number({"mean": 1}, "mean", WHERE) == 1.0 and isinstance(shapes.number({"mean": 1}, "mean", WHERE),
                                                                           float)
    with pytest.raises(EffbenchError, match="field 'split' is null"):
        shapes.field({"split": None}, "split", TEXT, WHERE, default="test")


def test_loose_values_refuse_only_integers_no_float_holds():
    assert shapes.loose({"acc": ["a", [1, 0.5]]}, "acc", WHERE) == ["a", [1, 0.5]]
    assert shapes.loose({}, "acc", WHERE) is None
    with pytest.raises(EffbenchError, match=r"entry 12: field 'acc' holds an integer too large for a float"):
        shapes.loose({"acc": {"replicas": [1, HUGE]}}, "acc", WHERE)


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply to read"),
    ('{"a": 1,}', "not valid JSON (Expecting property name enclosed in double quotes, column 9)"),
    ('{"a":\n tru}', "not valid JSON (Expecting value, line 2 column 2)"),
    ("9" * 5000, "not valid JSON (Exceeds the limit (4300 digits)"),
])
def test_json_that_cannot_be_parsed_is_one_line(text, message):
    with pytest.raises(EffbenchError) as caught:
        shapes.parse_json(text, "f.json")
    assert str(caught.value).startswith(f"f.json: {message}") and "\n" not in str(caught.value)


def test_json_lines_name_the_line_that_is_not_utf8_or_not_json(tmp_path: Path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"b": "caf\xe9"}\n')
    with pytest.raises(EffbenchError, match=r"s\.jsonl: line 3: not UTF-8 text \(byte 10 is 0xe9\)"):
        list(shapes.json_lines(path))
    path.write_bytes(b'{"a": 1}\n{"b": \n')
    with pytest.raises(EffbenchError, match=r"s\.jsonl: line 2: not valid JSON"):
        list(shapes.json_lines(path))
    assert shapes.probe_json("[" * 100_000) is None and shapes.probe_json('{"a": 1}') == {"a": 1}


def test_a_streamed_json_list_names_the_entry_nested_too_deeply(tmp_path: Path):
    path = tmp_path / "per_instance_stats.json"
    path.write_text('[{"a": 1}, ' + "[" * 100_000 + "]" * 100_000 + "]")
    with pytest.raises(EffbenchError, match=r"per_instance_stats\.json: entry 1: JSON nested too deeply"):
        list(shapes.iter_json_array(path))


# One real file per adapter (and per kind of file a unit holds) and the line changed in JSON-lines files.
FIXTURE_FILES = [
    ("helm/runs/v4", "bbq:subject=all,method=multiple_choice_joint,model=anthropic_claude-3-5-sonnet-20240620/"
     "per_instance_stats.json", None),
    ("helm/runs/v4", "bbq:subject=all,method=multiple_choice_joint,model=anthropic_claude-3-5-sonnet-20240620/"
     "stats.json", None),
    ("helm/runs/v4", "bbq:subject=all,method=multiple_choice_joint,model=anthropic_claude-3-5-sonnet-20240620/"
     "run_spec.json", None),
    ("helm/runs/v4", "schema.json", None),
    ("lm_eval/current/rerun/local__dummy", "results_2026-12-04T16-51-55.131250.json", None),
    ("lm_eval/current/rerun/local__dummy", "samples_tiny_qa_2026-12-04T16-51-55.131250.jsonl", 1),
    ("inspect/current/toy.json", None, None),
    ("every_eval_ever/pair_v0.3.0", "f3a1c0de-4b2e-4c1a-9f6d-1b7e5a2c8d40.json", None),
    ("every_eval_ever/pair_v0.3.0", "f3a1c0de-4b2e-4c1a-9f6d-1b7e5a2c8d40_samples.jsonl", 1),
    # without its details (Parquet, read by DuckDB, slow to read a hundred times): the tasks load as aggregates
    ("lighteval/smoke/results", "results_2026-08-10T17-22-11.385681.json", None),
    ("opencompass/outputs/default/20250310_142233", "results/qwen2.5-7b-instruct-hf/ARC-c.json", None),
    ("openeval/items/items.jsonl", None, 1),
    ("alpaca_eval/alpaca-7b/alpaca_eval_gpt4/annotations.json", None, None),
]
OTHER_TYPES = (None, "word", [["nested"]], {"an": "object"}, 7, HUGE, DEEP, NOT_UTF8)


def _field_paths(data: object, budget: int) -> list[tuple]:
    """Return up to `budget` paths to fields of `data`, breadth first (the fields nearest the top first),
    entering only the first element of each list."""
    paths, queue = [], [((), data)]
    while queue and len(paths) < budget:
        prefix, value = queue.pop(0)
        children = value.items() if isinstance(value, dict) else enumerate(value[:1]) if isinstance(value, list) else ()
        for key, child in children:
            paths.append((*prefix, key))
            queue.append(((*prefix, key), child))
    return paths[:budget]


@pytest.mark.parametrize(("source", "file", "line"), FIXTURE_FILES, ids=[
    f"{source}/{file or ''}".rstrip("/") for source, file, _ in FIXTURE_FILES])
def test_no_field_of_another_type_escapes_as_anything_but_one_clear_error(tmp_path: Path, source, file, line):
    """Each of the fields nearest the top of a real file, set to each of `OTHER_TYPES` in turn: the adapter
    reads the file or refuses it with one line naming the file; no other exception gets out."""
    origin = FORMATS / source / file if file else FORMATS / source
    text = origin.read_text(encoding="utf-8")
    data = json.loads(text.splitlines()[line - 1] if line else text)
    copy = copy_fixture(source, tmp_path)
    target = copy / file if file else copy
    original = target.read_bytes()
    refused = read_ok = 0
    for at in _field_paths(data, budget=12):
        for value in OTHER_TYPES:
            target.write_bytes(original)
            change_json(target, at, value, line=line)
            try:
                options = ReadOptions()
                units = discover([copy])
                plans = plan_runs(units, options)
                for unit in units:
                    read(unit, plans.get(unit.path, options))
                read_ok += 1
            except EffbenchError as error:
                assert "\n" not in str(error) and str(copy) in str(error), (at, value, str(error))
                refused += 1
    assert refused > 0 and read_ok + refused == len(_field_paths(data, budget=12)) * len(OTHER_TYPES)


def test_a_file_larger_than_a_reader_holds_is_refused_in_one_line(tmp_path, monkeypatch):
    """What one file may make a reader hold is bounded: a JSON file read whole, a line of JSON lines, an
    entry of an .eval archive. The limits are lowered here so that small real files cross them."""
    import shutil

    from effbench import formats
    from effbench.errors import EffbenchError
    from effbench.formats import shapes

    data = Path(__file__).parent / "data" / "formats"
    monkeypatch.setattr(shapes, "MAX_JSON_BYTES", 1000)
    monkeypatch.setattr(shapes, "MAX_LINE_BYTES", 50)
    run = tmp_path / "qwen3-93m"
    shutil.copytree(data / "lm_eval" / "qwen3-93m", run)
    archive = shutil.copy(data / "inspect" / "2025-02-11T15-18-04-05-00_popularity_mj7khqpMM4GBCfVQozKgzB.eval",
                          tmp_path)
    for path, name in ((run, "results_2026-01-21T03-44-18.458309.json"), (Path(archive), Path(archive).name)):
        (unit,) = formats.discover([path])
        with pytest.raises(EffbenchError) as refused:
            formats.read(unit, formats.ReadOptions())
        assert "\n" not in str(refused.value) and name in str(refused.value) and "more than effbench reads" in str(
            refused.value)
    lines = tmp_path / "long.jsonl"
    lines.write_text('{"a": 1}\n{"b": "' + "x" * 100 + '"}\n', encoding="utf-8")
    with pytest.raises(EffbenchError, match=r"long.jsonl: line 2: longer than effbench reads as one line"):
        list(shapes.json_lines(lines))
