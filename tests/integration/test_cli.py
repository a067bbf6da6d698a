"""The CLI against a real database: tokens, campaigns, migrate; exit codes and JSON."""

from __future__ import annotations

import json

import pytest

from dialer.cli import main


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("DIALER_DATABASE_URL", db_url)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_token_create_list_revoke(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "token", "create", "--name", "ops", "--role", "viewer", "--json")
    assert code == 0
    created = json.loads(out)
    assert created["token"].startswith("dlr_") and created["role"] == "viewer"
    code, out, _ = run(capsys, "token", "list", "--json")
    listed = json.loads(out)["items"]
    assert any(t["name"] == "ops" for t in listed)
    assert created["token"] not in out  # the secret is shown once, never listed
    code, out, _ = run(capsys, "token", "revoke", "ops")
    assert code == 0 and "ops" in out
    code, _, err = run(capsys, "token", "revoke", "ops")
    assert code == 2 and err.count("\n") == 1


def test_bad_role_and_unknown_client_exit_2(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "token", "create", "--name", "x", "--role", "god")
    assert code == 2 and "role" in err and err.count("\n") == 1
    code, _, err = run(
        capsys, "token", "create", "--name", "x", "--role", "viewer", "--client", "nobody"
    )
    assert code == 2 and "nobody" in err


def test_campaign_create_list_start(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "campaign",
        "create",
        "--name",
        "cli-camp",
        "--purpose",
        "survey",
        "--caller-id",
        "+442079460958",
        "--json",
    )
    assert code == 0 and json.loads(out)["purpose"] == "survey"
    code, out, _ = run(capsys, "campaign", "list", "--json")
    assert "cli-camp" in [c["name"] for c in json.loads(out)["items"]]
    code, out, _ = run(capsys, "campaign", "start", "cli-camp")
    assert code == 0 and "running" in out
    code, _, err = run(capsys, "campaign", "create", "--name", "cli-camp")
    assert code == 2 and "already exists" in err
    code, _, err = run(capsys, "campaign", "create", "--name", "bad", "--caller-id", "12")
    assert code == 2 and "caller_id" in err
    code, _, err = run(capsys, "campaign", "start", "no-such-campaign")
    assert code == 2 and "no-such-campaign" in err


def test_migrate_is_idempotent(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "migrate", "--json")
    assert code == 0 and json.loads(out) == {"applied": []}


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["--help"],
        ["token", "--help"],
        ["campaign", "create", "--help"],
        ["serve", "--help"],
    ):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0
        assert "usage:" in capsys.readouterr().out
