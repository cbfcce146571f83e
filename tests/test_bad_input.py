"""Every malformed case file is refused with one message naming file, field and fix — never a traceback.

The corpus is tests/cases/bad/: one file per kind of error. Next to each file
``NAME.EXT`` sits ``NAME.expected.txt``; every line of it is a fragment the
error message must contain (the field path and value, the problem, the fix).
Inputs that must not be committed (a file over the size limit, a directory)
are generated here.

Each case is checked twice: through the library (``load_case`` raises
``CaseError``) and through the CLI (exit code 2, message on stderr, nothing on
stdout, no "Traceback").
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import exportkb.cli as cli
from exportkb.errors import CaseError, ExportKBError
from exportkb.case.loader import MAX_FILE_BYTES, case_from_data, load_case, parse_yaml
from exportkb.suites.runner import expected_error

from .conftest import CASES, ROOT

BAD = CASES / "bad"
BAD_FILES = sorted(p for p in BAD.iterdir() if p.is_file() and not p.name.endswith(".expected.txt"))
GOOD = CASES / "aia" / "aia-we01-germany.yaml"


def expected_fragments(path: Path) -> list[str]:
    """The sidecar's lines, read as `exportkb test` reads them (one convention, suite.expected_error)."""
    fragments = expected_error(path)
    assert fragments, f"{path.name}: no sidecar {path.stem}.expected.txt, or it is empty"
    return fragments


@pytest.fixture
def run_cli(kb, monkeypatch):
    """Invoke the CLI in-process with the session's parsed KB (parsing kb/ per call is slow)."""
    monkeypatch.setattr(cli.common, "KnowledgeBase", SimpleNamespace(load=lambda path=None: kb))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli.main, list(args))
    return run


def test_corpus_has_one_sidecar_per_bad_file():
    sidecars = {p.name[: -len(".expected.txt")] for p in BAD.glob("*.expected.txt")}
    stems = {p.stem for p in BAD_FILES}
    assert len(BAD_FILES) >= 30
    assert sidecars == stems, f"files without sidecar: {stems - sidecars}; sidecars without file: {sidecars - stems}"


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.name)
def test_library_refuses_with_file_field_and_fix(path, kb):
    with pytest.raises(CaseError) as info:
        load_case(path, kb)
    msg = str(info.value)
    assert str(path) in msg
    for fragment in expected_fragments(path):
        assert fragment in msg, f"{path.name}: {fragment!r} not in message:\n{msg}"
    for problem in info.value.problems:
        assert problem.file == str(path)
        assert problem.fix, f"{path.name}: a problem without a fix: {problem}"
        assert "(fix: " in str(problem)


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.name)
def test_cli_exits_2_with_the_message_and_no_result(path, run_cli):
    result = run_cli("check", str(path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an uncaught error
    assert result.stdout == ""
    for fragment in expected_fragments(path):
        assert fragment in result.stderr


def test_good_and_bad_together_print_no_determination(run_cli):
    """One bad file stops the run before anything is solved: no partial result."""
    bad = BAD / "unknown-country.yaml"
    for args in (("check", str(GOOD), str(bad)), ("check", "--json", str(GOOD), str(bad)),
                 ("check", str(bad), str(GOOD))):
        result = run_cli(*args)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert "unknown country" in result.stderr
        assert str(GOOD) not in result.stderr


def test_every_bad_file_reported_at_once(run_cli):
    result = run_cli("validate", *map(str, BAD_FILES))
    assert result.exit_code == 2
    for path in BAD_FILES:
        assert str(path) in result.stderr


def test_real_process_exit_code_and_no_traceback():
    """The installed entry point, not just CliRunner: exit 2, one message, empty stdout."""
    proc = subprocess.run([sys.executable, "-m", "exportkb.cli", "check", str(GOOD), str(BAD / "impossible-date.yaml")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert "impossible-date.yaml:2: date = '2025-02-30'" in proc.stderr


def test_file_over_the_size_limit(tmp_path, kb, run_cli):
    big = tmp_path / "big.yaml"
    with big.open("w", encoding="utf-8") as fh:
        fh.write("case: big\ndate: '2025-06-01'\nto: DE\ntitle: '")
        fh.write("x" * MAX_FILE_BYTES)
        fh.write("'\nitems: [{id: a, eccn: 3A090.a}]\n")
    with pytest.raises(CaseError, match=r"big\.yaml: \(document\): file is [\d,]+ bytes; a case file may be at most"):
        load_case(big, kb)
    result = run_cli("check", str(big))
    assert result.exit_code == 2 and "split it" in result.stderr


def test_directory_instead_of_file(tmp_path, kb, run_cli):
    folder = tmp_path / "case.yaml"
    folder.mkdir()
    with pytest.raises(CaseError, match=r"case\.yaml: \(document\): is a directory.*fix: name the \.yaml"):
        load_case(folder, kb)
    # On the command line a folder means "every case in it"; an empty one is an error too.
    result = run_cli("check", str(folder))
    assert result.exit_code == 2 and "no case files found" in result.stderr and "fix:" in result.stderr


def test_missing_file(tmp_path, kb, run_cli):
    with pytest.raises(CaseError, match="no such file"):
        load_case(tmp_path / "nope.yaml", kb)
    assert run_cli("check", str(tmp_path / "nope.yaml")).exit_code == 2


def test_data_that_is_not_a_mapping_from_other_front_ends(kb):
    """Batch front ends (JSONL, CSV) hand parsed data to case_from_data: the same checks apply."""
    for data in ([], "text", 3, None):
        with pytest.raises(CaseError, match=r"<row 7>: \(document\): the document is a \w+, not a mapping"):
            case_from_data(data, kb, source="<row 7>")


def test_json_paths_without_line_numbers_terminate(kb):
    """JSON gives no line map; finding the line of a nested field must not loop."""
    data = {"case": "j", "date": "2025-06-01", "to": "DE", "items": [{"id": "a", "eccn": "3A090.a", "tpp": "fast"}]}
    with pytest.raises(CaseError, match=r"<json>: items\[0\]\.tpp = 'fast'"):
        case_from_data(data, kb, source="<json>")


def test_norway_stays_a_country_code(kb):
    """YAML 1.1 reads NO as false; the loader must keep Norway (and no/off) as written."""
    doc = ("case: norway\ndate: 2025-06-01\nto: NO\nfrom: US\nitems:\n  - id: a\n    eccn: 3A090.a\n"
           "parties:\n  - id: p\n    role: ultimate_consignee\n    country: NO\n    headquarters: No\n")
    with pytest.raises(CaseError, match=r"parties\[0\]\.headquarters = 'No': unknown country.*did you mean 'NO'"):
        _load(doc, kb)
    case = _load(doc.replace("headquarters: No", "headquarters: NO"), kb)
    assert case.to == "NO" and case.parties[0].country == "NO" and case.parties[0].headquarters == "NO"


def _load(doc: str, kb):
    data, lines = parse_yaml(doc, "norway.yaml")
    return case_from_data(data, kb, "norway.yaml", lines)


def test_date_range_bounds_are_inclusive(kb):
    base = {"case": "d", "to": "DE", "items": [{"id": "a", "eccn": "3A090.a"}]}
    for ok in ("1900-01-01", "2100-12-31"):
        case_from_data({**base, "date": ok}, kb)
    for bad in ("1899-12-31", "2101-01-01"):
        with pytest.raises(CaseError, match="outside 1900-01-01 .. 2100-12-31"):
            case_from_data({**base, "date": bad}, kb)


def test_errors_are_exportkb_errors():
    """The CLI turns exactly ExportKBError into exit 2; CaseError must be one."""
    assert issubclass(CaseError, ExportKBError)
