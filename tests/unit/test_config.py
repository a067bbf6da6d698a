"""Settings from DIALER_* variables: defaults, parsing, and one clear error per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.cli import main
from dialer.config import Settings, settings_table, unknown_variables
from dialer.errors import ConfigError


def test_defaults_run_anywhere() -> None:
    s = Settings.from_env({})
    assert s.database_url is None  # embedded PostgreSQL
    assert s.data_dir == Path(".dialer")
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert s.gateway == "sim"
    assert s.instance_id  # host:pid by default


def test_values_are_parsed() -> None:
    s = Settings.from_env(
        {
            "DIALER_PORT": "9000",
            "DIALER_LOG_LEVEL": "debug",
            "DIALER_SIM_SPEED": "10",
            "DIALER_AUTO_MIGRATE": "no",
            "DIALER_DATABASE_URL": "postgresql://u@h/db",
        }
    )
    assert (s.port, s.log_level, s.sim_speed, s.auto_migrate) == (9000, "DEBUG", 10.0, False)
    assert s.database_url == "postgresql://u@h/db"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DIALER_PORT", "eighty"),
        ("DIALER_PORT", "70000"),
        ("DIALER_LOG_LEVEL", "LOUD"),
        ("DIALER_GATEWAY", "skype"),
        ("DIALER_DATABASE_URL", "mysql://x"),
        ("DIALER_AUTO_MIGRATE", "maybe"),
        ("DIALER_SIM_SPEED", "0"),
        ("DIALER_DATA_DIR", "  "),
    ],
)
def test_invalid_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({name: value})
    assert name in err.value.message and value.strip() in err.value.message


def test_pool_bounds_are_consistent() -> None:
    with pytest.raises(ConfigError, match="DIALER_POOL_MIN_SIZE"):
        Settings.from_env({"DIALER_POOL_MIN_SIZE": "10", "DIALER_POOL_MAX_SIZE": "5"})


def test_unknown_variables_are_reported() -> None:
    env = {"DIALER_PORTT": "1", "DIALER_PORT": "1", "DIALER_TEST_DATABASE_URL": "x", "HOME": "/"}
    assert unknown_variables(env) == ["DIALER_PORTT"]


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, _, help_text in settings_table():
        assert name in readme, f"{name} missing from README configuration table"
        assert help_text


def test_cli_exits_2_with_one_line_for_a_bad_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIALER_PORT", "eighty")
    assert main(["campaign", "list"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "DIALER_PORT" in err[0]
