"""One line rule for the data-file loader and the upload check (issue 16, items 1-2): lines end at '\\n' only, as
JSONL says, and nothing a file holds escapes as anything but the loader's own DataError."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import datasets
from shared.data import DataError, read_jsonl, split_lines

ROW = {"subject": "s", "body": "b", "label": "x"}
ODD_BREAKS = ["\u2028", "\u2029", "\u0085", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\r"]


def _upload_rows(content: bytes) -> list[tuple[int, str]]:
    return [(e.line, e.label) for e in datasets.parse(content)]


def _loader_rows(tmp_path, content: bytes) -> list[tuple[int, str]]:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(content)
    return [(e.line, e.label) for e in read_jsonl(path)]


def test_deep_nesting_is_a_data_error_with_its_line(tmp_path):
    content = (json.dumps(ROW) + "\n" + "[" * 100_000 + "\n").encode()
    with pytest.raises(datasets.DatasetProblems) as upload:
        datasets.parse(content)
    assert upload.value.problems[0][0] == 2 and "nested" in upload.value.problems[0][1]
    with pytest.raises(DataError, match=r"rows\.jsonl:2: .*nested"):
        _loader_rows(tmp_path, content)


def test_huge_number_is_a_data_error(tmp_path):
    content = ('{"subject": "s", "body": "b", "label": "x", "n": ' + "1" * 5000 + "}\n").encode()
    with pytest.raises(DataError, match=r"rows\.jsonl:1: "):
        _loader_rows(tmp_path, content)


@pytest.mark.parametrize("mark", [m for m in ODD_BREAKS if m != "\r"])  # a raw CR in a string is not JSON
def test_odd_breaks_inside_a_string_are_one_row_for_both(tmp_path, mark):
    body = json.dumps({**ROW, "body": f"one{mark}two"}, ensure_ascii=False)
    content = (json.dumps(ROW) + "\n" + body + "\n" + json.dumps(ROW) + "\n").encode()
    assert _upload_rows(content) == _loader_rows(tmp_path, content) == [(1, "x"), (2, "x"), (3, "x")]


@pytest.mark.parametrize("mark", ["\u2028", "\u0085", "\x0c", "\r"])
def test_rows_joined_by_an_odd_break_are_refused_by_both(tmp_path, mark):
    content = (json.dumps(ROW) + mark + json.dumps(ROW) + "\n").encode()
    with pytest.raises(datasets.DatasetProblems) as upload:
        datasets.parse(content)
    assert upload.value.problems[0][0] == 1
    with pytest.raises(DataError, match=r"rows\.jsonl:1: "):
        _loader_rows(tmp_path, content)


def test_crlf_files_still_load():
    content = (json.dumps(ROW) + "\r\n" + json.dumps(ROW) + "\r\n").encode()
    assert _upload_rows(content) == [(1, "x"), (2, "x")]
    assert split_lines("a\u2028b\nc") == ["a\u2028b", "c"]


def _agree(tmp_path, content: bytes) -> None:
    """Both paths take the same rows, or both refuse at the same first line."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(datasets.DatasetProblems):
            datasets.parse(content)
        return
    try:
        loaded = _loader_rows(tmp_path, content)
    except DataError as loader_error:
        with pytest.raises(datasets.DatasetProblems) as upload:
            datasets.parse(content)
        assert str(loader_error).split(":")[1] == str(upload.value.problems[0][0]), (text, loader_error)
        return
    if loaded:
        assert _upload_rows(content) == loaded
    else:
        with pytest.raises(datasets.DatasetProblems, match="no rows"):
            datasets.parse(content)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
row_values = st.fixed_dictionaries({"subject": st.text(max_size=20), "body": st.text(max_size=20),
                                    "label": st.text(max_size=10)})  # fmt: skip
breaks = st.sampled_from(["\n", "\r\n", "\n\n", *ODD_BREAKS])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_give_data_errors_and_both_paths_agree(tmp_path, content):
    _agree(tmp_path, content)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(json_values, row_values), max_size=6), seps=st.lists(breaks, min_size=6, max_size=6),
       ascii_only=st.booleans())  # fmt: skip
def test_arbitrary_json_values_only_ever_give_data_errors_and_both_paths_agree(tmp_path, values, seps, ascii_only):
    text = "".join(json.dumps(v, ensure_ascii=ascii_only) + sep for v, sep in zip(values, seps))
    _agree(tmp_path, text.encode("utf-8", "surrogatepass"))
