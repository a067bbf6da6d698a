"""``dialer import`` and ``dialer dnc``: JSON output, the summary, exit codes, one-line errors."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.cli import main
from tests.cli_support import run

LIST = "name,phone,state\nAnn,(212) 555-0501,NY\nBob,nope,TX\nCy,212 555 0501,NY\nDi,,\n"


@pytest.fixture(scope="module", autouse=True)
def cli_env(db_url: str) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIALER_DATABASE_URL", db_url)
        yield


@pytest.fixture(scope="module")
def campaign(cli_env: None) -> str:
    code = main(["campaign", "create", "--name", "cli-import", "--region", "us", "--json"])
    assert code == 0
    return "cli-import"


def test_import_prints_one_json_object(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, campaign: str
) -> None:
    capsys.readouterr()
    path = tmp_path / "list.csv"
    path.write_text(LIST)
    errors = tmp_path / "rejected.csv"
    code, out, err = run(
        capsys, "import", str(path), "--campaign", campaign, "--json", "--errors", str(errors)
    )
    assert code == 0, err
    result = json.loads(out)  # exactly one JSON object on stdout
    assert set(result) >= {
        "list_id",
        "rows",
        "accepted",
        "rejected",
        "rejected_by_reason",
        "dnc",
        "seconds",
        "rows_per_s",
    }
    assert (result["rows"], result["accepted"], result["rejected"], result["dnc"]) == (4, 1, 3, 0)
    assert result["rejected_by_reason"] == {
        "duplicate_in_file": 1,
        "invalid_number": 1,
        "missing_phone": 1,
    }
    rows = list(csv.reader(errors.open()))
    assert [r[:2] for r in rows] == [
        ["row", "reason"],
        ["3", "invalid_number"],
        ["4", "duplicate_in_file"],
        ["5", "missing_phone"],
    ]


def test_import_summary_for_people(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, campaign: str
) -> None:
    first = tmp_path / "first.csv"
    first.write_text("phone\n212 555 0601\n")
    assert run(capsys, "import", str(first), "--campaign", campaign, "--workers", "0")[0] == 0
    path = tmp_path / "second.csv"
    path.write_text("phone\n212 555 0602\n212 555 0601\n")
    code, out, err = run(capsys, "import", str(path), "--campaign", campaign, "--workers", "0")
    assert code == 0, err
    assert "2 rows" in out and "accepted" in out and "duplicate_in_campaign 1" in out
    assert err == ""  # no progress line when stderr is not a terminal


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (None, (), "no such file"),
        ("name,email\nAnn,a@example.com\n", (), "no phone column found"),
        ("name,email\nAnn,a@example.com\n", (), "(--phone-column COL)"),
        ("PK\x03\x04", (), "Excel workbook"),
        ("phone\n1\n", ("--phone-column", "mobile"), "no column named 'mobile'"),
        ("phone\n1\n", ("--region", "XX"), "unknown region"),
    ],
)
def test_unusable_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    campaign: str,
    content: str | None,
    extra: tuple[str, ...],
    message: str,
) -> None:
    path = tmp_path / "in.csv"
    if content is not None:
        path.write_text(content)
    code, out, err = run(capsys, "import", str(path), "--campaign", campaign, *extra)
    assert code == 2 and out == ""
    assert err.startswith("dialer: error:") and message in err and err.count("\n") == 1


def test_numbers_without_country_code_are_their_own_reason_with_the_fix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A campaign without a default region: national numbers are ``no_country_code``, and
    the summary says which command fixes it."""
    assert run(capsys, "campaign", "create", "--name", "cli-no-region")[0] == 0
    path = tmp_path / "uk.csv"
    path.write_text("phone\n020 7946 0958\n+44 20 7946 0959\nnope\n")
    code, out, err = run(capsys, "import", str(path), "--campaign", "cli-no-region", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["rejected_by_reason"] == {"no_country_code": 1, "invalid_number": 1}
    code, out, _ = run(capsys, "import", str(path), "--campaign", "cli-no-region")
    assert code == 0
    assert "no_country_code" in out
    assert "dialer campaign update cli-no-region --region CC" in out


def test_unknown_campaign_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(LIST)
    code, _, err = run(capsys, "import", str(path), "--campaign", "no-such-campaign")
    assert code == 2 and "no-such-campaign" in err and err.count("\n") == 1


def test_a_file_bad_half_way_exits_2_and_loads_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, campaign: str
) -> None:
    path = tmp_path / "bad.csv"
    good = "".join(f"+1646555{i:04d},x\n" for i in range(20000))
    path.write_bytes(b"phone,n\n" + good.encode() + b"+16465559999,\x00\x00\n")
    code, out, err = run(capsys, "import", str(path), "--campaign", campaign, "--workers", "0")
    assert code == 2 and "row 20002: binary data" in err
    code, out, _ = run(capsys, "campaign", "show", campaign)
    code, out, err = run(capsys, "dnc", "check", "+16465550001", "--campaign", campaign, "--json")
    assert code == 0 and json.loads(out)["blocks_campaign"] is False


def test_dnc_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path, campaign: str) -> None:
    path = tmp_path / "tps.txt"
    path.write_text("020 7946 0960\n020 7946 0961\nbad\n")
    code, out, err = run(capsys, "dnc", "import", str(path), "--source", "tps", "--json")
    assert code == 0, err
    assert json.loads(out)["accepted"] == 2 and json.loads(out)["rejected"] == 1

    code, out, err = run(capsys, "dnc", "add", "(212) 555-0503", "--campaign", campaign, "--json")
    assert code == 0, err
    added = json.loads(out)
    assert added["scope"] == "campaign" and added["phone_e164"] == "+12125550503"
    code, out, _ = run(
        capsys, "dnc", "check", "212-555-0503", "--campaign", campaign, "--region", "US"
    )
    assert code == 0 and "BLOCKED" in out
    code, out, _ = run(capsys, "dnc", "remove", "+12125550503", "--campaign", campaign, "--json")
    assert json.loads(out)["deleted"] == 1
    code, _, err = run(capsys, "dnc", "add", "12", "--region", "US")
    assert code == 2 and "not a usable number" in err


def test_dnc_import_replace_mode(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first = tmp_path / "bloctel-01.txt"
    first.write_text("06 12 34 56 71\n06 12 34 56 72\n")
    code, out, err = run(capsys, "dnc", "import", str(first), "--source", "bloctel", "--json")
    assert code == 0, err
    assert (json.loads(out)["mode"], json.loads(out)["removed"]) == ("add", 0)

    second = tmp_path / "bloctel-02.txt"
    second.write_text("06 12 34 56 71\n")
    code, out, err = run(
        capsys, "dnc", "import", str(second), "--source", "bloctel", "--mode", "replace"
    )
    assert code == 0, err
    assert "removed" in out and " 1  (no longer in the file" in out
    assert "kept" in out and " 1  (on the list already" in out
    assert "already_listed" not in out
    code, out, _ = run(capsys, "dnc", "check", "+33612345672", "--json")
    assert json.loads(out)["entries"] == []

    code, _, err = run(capsys, "dnc", "import", str(second), "--mode", "replace")
    assert code == 2 and "mode replace is refused for source internal" in err
    empty = tmp_path / "wrong.txt"
    empty.write_text("nope\nnothing\n")
    code, _, err = run(
        capsys, "dnc", "import", str(empty), "--source", "bloctel", "--mode", "replace"
    )
    assert code == 2 and "no usable phone number" in err
    code, out, _ = run(capsys, "dnc", "check", "+33612345671", "--json")
    assert len(json.loads(out)["entries"]) == 1


def test_a_registry_file_loads_and_check_names_the_registry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "us_dnc.txt"
    path.write_text("".join(f"20255501{n}\n" for n in range(10, 40)))
    code, out, err = run(capsys, "dnc", "import", str(path), "--source", "us_dnc", "--json")
    assert code == 0, err
    assert (json.loads(out)["added"], json.loads(out)["kept"]) == (30, 0)
    code, out, _ = run(capsys, "dnc", "check", "+12025550111", "--json")
    assert json.loads(out)["registries"] == ["us_dnc"]
    code, out, _ = run(capsys, "dnc", "check", "+12025550111")
    assert "on the national registry us_dnc" in out
