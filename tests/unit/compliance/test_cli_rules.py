"""`dialer check` and `dialer rules`: exit codes, one-line errors, one JSON object."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dialer.compliance import check_number
from dialer.errors import ValidationError
from tests.cli_support import run

NOW = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)


def test_check_json_blocked_decision(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "check", "--phone", "+13055550123", "--purpose", "telemarketing",
        "--at", "2026-07-01T20:30:00-04:00", "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)  # exactly one JSON object
    assert data["allowed"] is False
    assert any("us-fl.hours" in r for r in data["reasons"])
    assert data["time_zones"] == ["America/New_York"]
    assert data["local_times"]["America/New_York"] == "2026-07-01T20:30:00-04:00"
    assert data["next_allowed_at"] == "2026-07-02T12:00:00Z"


def test_check_json_allowed_with_address(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "check", "--phone", "8505550123", "--region", "US", "--postal", "32501",
        "--purpose", "survey", "--at", "2026-07-01T14:00:00Z", "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["allowed"] is True and data["reasons"] == []
    assert data["time_zones"] == ["America/Chicago"]


def test_check_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "check", "--phone", "+33145678901", "--purpose", "telemarketing",
        "--at", "2026-07-07T11:30:00Z",
    )  # fmt: skip
    assert code == 0
    assert out.startswith("BLOCKED")
    assert "fr.lunch" in out and "next allowed: 2026-07-07T12:00:00Z" in out


def test_check_defaults_to_now(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--phone", "+442079460000", "--purpose", "survey", "--json")
    assert code == 0
    assert isinstance(json.loads(out)["allowed"], bool)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--phone", "+1305555", "--purpose", "survey"], "phone: not a valid phone number"),
        (["--phone", "hello", "--purpose", "survey"], "phone: not a phone number"),
        (["--phone", "+13055550123", "--purpose", "sales"], "purpose: unknown purpose 'sales'"),
        (
            ["--phone", "+13055550123", "--purpose", "survey", "--at", "tomorrow"],
            "at: bad timestamp",
        ),
        (
            ["--phone", "+13055550123", "--purpose", "survey", "--at", "2026-07-01T12:00"],
            "at: timestamp 2026-07-01T12:00 has no UTC offset",
        ),
        (
            ["--phone", "3055550123", "--region", "QQ", "--purpose", "survey"],
            "region: unknown region",
        ),
        (
            ["--phone", "+13055550123", "--state", "ZZ", "--purpose", "survey"],
            "state: unknown state",
        ),
        (
            ["--phone", "+13055550123", "--postal", "ABC", "--purpose", "survey"],
            "postal_code: bad US ZIP",
        ),
        (["--purpose", "survey"], "give --phone and --purpose, or --lead ID"),
        (["--lead", "7", "--purpose", "survey"], "--lead takes the number"),
        (["--lead", "seven"], "--lead: invalid int value"),
    ],
)
def test_check_unusable_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    code, out, err = run(capsys, "check", *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and fragment in err


def test_rules_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "list", "--json")
    assert code == 0
    data = json.loads(out)
    ids = {p["id"] for p in data["packs"]}
    assert {"us", "us-fl", "fr", "au", "default"} <= ids
    assert data["max_lookback_days"] == 30


def test_rules_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "list")
    assert code == 0 and "us-tx" in out
    code, out, _ = run(capsys, "rules", "show", "US-TX")
    assert code == 0
    assert "us-tx.hours" in out and "Sun 12:00-21:00" in out and "unverified" in out
    code, out, _ = run(capsys, "rules", "show", "au", "--json")
    assert json.loads(out)["jurisdiction"] == "AU"
    code, _, err = run(capsys, "rules", "show", "zz")
    assert code == 2 and "no rule pack 'zz'" in err


def test_check_number_names_the_bad_field() -> None:
    with pytest.raises(ValidationError) as info:
        check_number("+13055550123", "survey", "2026-13-01T00:00:00Z", now=NOW)
    assert info.value.field == "at"
    decision = check_number("+13055550123", "survey", None, now=NOW)
    assert decision.at_utc == NOW


def test_check_takes_consent_facts(capsys: pytest.CaptureFixture[str]) -> None:
    at = ("--at", "2026-07-01T16:00:00Z")
    base = ("check", "--phone", "+12125550123", "--purpose", "telemarketing", *at, "--json")
    code, out, _ = run(capsys, *base, "--wireless", "yes")
    assert code == 0 and "us.wireless-telemarketing-consent" in out
    code, out, _ = run(capsys, *base, "--wireless", "yes", "--consent", "express_written")
    assert code == 0 and '"allowed": true' in out
    code, out, _ = run(capsys, *base, "--dnc", "us_dnc", "--ebr-since", "2026-03-01")
    assert code == 0 and '"allowed": true' in out
    code, _, err = run(capsys, *base, "--consent-at", "soon")
    assert code == 2 and "--consent-at" in err
