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

import os
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


# ------------------------------------------------------------------ reading bounds (issue 12 items 4, 11, 12)
#: A 348-byte "billion laughs": nine levels of nine aliases (~4 x 10^8 values once expanded).
ALIAS_BOMB = "case: bomb\ndate: '2025-06-01'\nto: DE\nitems: [{id: a, eccn: 3A090.a}]\n" + "".join(
    c + ": &" + c + " [" + ", ".join([("*" + p) if p else "lol"] * 9) + "]\n"
    for p, c in zip(["", *"abcdefgh"], "abcdefghi"))


def _exportkb(*args: str, timeout: float = 60, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The real command in a subprocess with a timeout: an input that hangs the loader fails the
    test instead of hanging the suite."""
    try:
        return subprocess.run([sys.executable, "-m", "exportkb.cli", *args], capture_output=True, text=True,
                              cwd=ROOT, timeout=timeout, input=stdin)
    except subprocess.TimeoutExpired:
        pytest.fail(f"exportkb {' '.join(args)} did not finish within {timeout} s")


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB, encoding="utf-8")
    assert len(ALIAS_BOMB.encode()) < 600
    proc = _exportkb("validate", str(bomb), timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "expands to more than 200,000 values" in proc.stderr and "fix:" in proc.stderr


@pytest.mark.parametrize("suffix,text", [
    (".yaml", "case: deep\ntitle: " + "[" * 100_000 + "]" * 100_000 + "\n"),
    (".json", '{"case": "deep", "title": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    (".json", '{"case": "deep", "title": ' + "[" * 500 + "]" * 500 + "}"),
], ids=["yaml-1e5", "json-1e5", "json-500"])
def test_deep_nesting_is_refused(tmp_path, kb, suffix, text):
    path = tmp_path / f"deep{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CaseError, match=r"deep\.(yaml|json)(:\d+)?: \(document\): nested (more than 64 levels deep|too deeply)"):
        load_case(path, kb)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_non_regular_files_are_refused_before_reading(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "case.yaml"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
        if not path.exists():
            pytest.skip("no /dev/zero")
    proc = _exportkb("check", str(path), timeout=30)  # reading would block (FIFO) or never end (/dev/zero)
    assert proc.returncode == 2
    assert f"{path}: (document): is not a regular file" in proc.stderr and "fix:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_permission_error_is_a_case_error(tmp_path, kb, monkeypatch):
    path = tmp_path / "locked.yaml"
    path.write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))
    monkeypatch.setattr(Path, "open", denied)  # chmod 000 does not stop root, so refuse the open itself
    with pytest.raises(CaseError, match=r"locked\.yaml: \(document\): cannot read it: Permission denied \(fix: check"):
        load_case(path, kb)


def _batch_errors(tmp_path: Path, name: str, content: bytes, timeout: float = 120) -> str:
    log = tmp_path / name
    log.write_bytes(content)
    out, err = tmp_path / "out.jsonl", tmp_path / "errors.txt"
    proc = _exportkb("batch", str(log), "--out", str(out), "--errors", str(err), timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    return err.read_text(encoding="utf-8", errors="strict") if err.exists() else proc.stderr


_ROW = {"case": "r", "date": "2025-06-01", "to": "DE", "items": [{"id": "gpus", "eccn": "3A090.a"}]}


def test_jsonl_rows_duplicate_keys_non_utf8_and_numbers(tmp_path):
    import json

    good = json.dumps(_ROW).encode()
    lines = [
        good,
        b'{"case": "dup", "date": "2025-06-01", "to": "DE", "to": "CN", "items": [{"id": "g", "eccn": "3A090.a"}]}',
        good.replace(b'"gpus"', b'"gp\xffus"'),
        good.replace(b'"3A090.a"}', b'"3A090.a", "quantity": ' + b"9" * 4301 + b"}"),
        good.replace(b'"3A090.a"}', b'"3A090.a", "quantity": 1e999999999}'),
        b'{"case": "deep", "title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ]
    errors = _batch_errors(tmp_path, "log.jsonl", b"\n".join(lines) + b"\n")
    assert "log.jsonl:1" not in errors
    assert "log.jsonl:2: to: key given twice (fix: keep one of them)" in errors
    at = lines[2].index(b"\xff") + 1  # 1-based, as an editor's byte column
    assert f"log.jsonl:3: (document): not UTF-8 text (byte {at} of the line is not UTF-8)" in errors
    assert "log.jsonl:4: items[0].quantity: a number of 4,301 digits" in errors
    assert "log.jsonl:5: items[0].quantity = <a number of 1 digits, exponent 999,999,999>" in errors
    assert "log.jsonl:6: (document): nested too deeply" in errors


def test_csv_row_with_non_utf8_bytes_is_refused_with_its_line(tmp_path):
    content = (b"case,date,to,item_id,eccn\n"
               b"ok,2025-06-01,DE,gpus,3A090.a\n"
               b"bad,2025-06-01,DE,gp\xe9us,3A090.a\n")
    errors = _batch_errors(tmp_path, "log.csv", content)
    assert "log.csv:3: (document): not UTF-8 text" in errors and "save the file as UTF-8" in errors
    assert "log.csv:2" not in errors


# ------------------------------------------------------------------ explain: unknown ids (issue 12 item 5)
@pytest.mark.parametrize("args,fragment", [
    (("--item", "h100"), "--item: 'h100' is not an item of case 'aia-we01-germany' (fix: use one of: gpus)"),
    (("--why", "license_required(h100)"), "'h100' is not an item of case 'aia-we01-germany' (fix: use one of: gpus)"),
    (("--why-not", "exception_available(h100, lpp)"), "'h100' is not an item"),
    (("--why", "party_country(buyer, \"DE\")"), "'buyer' is not a party of case 'aia-we01-germany' (fix: use one of: consignee)"),
])
def test_explain_refuses_ids_the_case_does_not_have(run_cli, args, fragment):
    for command in ("explain", "explain-html"):
        extra = ("-o", os.devnull) if command == "explain-html" else ()
        if command == "explain-html" and args[0] == "--item":
            args = (*args, "--why-not", "LPP")
        result = run_cli(command, str(GOOD), *args, *extra)
        assert result.exit_code == 2, result.output
        assert fragment in result.stderr
        assert result.stdout == ""


def test_explain_accepts_the_ids_the_case_has(run_cli):
    result = run_cli("explain", str(GOOD), "--why", "license_required(gpus)")
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------------ reform names (issue 12 item 16)
def test_reform_names_resolve_only_inside_the_reform_folder(tmp_path):
    from exportkb.kb.reforms import ReformError, load_reform

    folder = tmp_path / "reforms"
    folder.mkdir()
    secret = tmp_path / "secret.yaml"
    secret.write_text("title: SECRET-CONTENT\nparams: [SECRET-ROW]\n", encoding="utf-8")
    (tmp_path / "outside.lp").write_text("% title: outside\n", encoding="utf-8")
    (folder / "leaky.yaml").write_text("title: t\nparams: [SECRET-ROW]\n", encoding="utf-8")
    (folder / "escape.yaml").write_text("title: t\noverlay: [../outside.lp]\n", encoding="utf-8")
    for name in (str(secret), "../secret", "secret.yaml"):
        with pytest.raises(ReformError, match="not a reform name") as info:
            load_reform(name, folder)
        assert "SECRET" not in str(info.value)
    with pytest.raises(ReformError, match=r"params\[0\]: not a parameter override") as info:
        load_reform("leaky", folder)
    assert "SECRET" not in str(info.value)  # an error names the field, never quotes the file
    with pytest.raises(ReformError, match=r"overlay\[0\]: not an \.lp file next to the reform"):
        load_reform("escape", folder)


def test_validate_refuses_a_case_reform_given_as_a_path(run_cli):
    result = run_cli("validate", str(BAD / "reform-is-a-path.yaml"))
    assert result.exit_code == 2 and "never by a path" in result.stderr
    assert "%!" not in result.stderr  # the named .lp file is not read, let alone quoted
