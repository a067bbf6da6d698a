"""``dialer callerid``: set a pool, show it, ask which number a call would present."""

from __future__ import annotations

import json
import time

import pytest

from tests.cli_support import run


def test_set_show_and_pick(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    name = f"cli-pool-{time.monotonic_ns()}"
    code, out, _ = run(
        capsys, "campaign", "create", "--name", name, "--caller-id", "+16505550100", "--json"
    )
    assert code == 0, out
    numbers = "+13055550100,+14155550100"
    code, out, _ = run(
        capsys, "callerid", "set", "--campaign", name, "--numbers", numbers,
        "--retired", "+12125550100", "--local-presence", "--daily-cap", "200", "--json",
    )  # fmt: skip
    assert code == 0, out
    pool = json.loads(out)
    assert [i["number"] for i in pool["items"]] == [*numbers.split(","), "+12125550100"]
    assert pool["daily_cap"] == 200 and pool["local_presence"] is True

    code, out, _ = run(capsys, "callerid", "show", "--campaign", name)
    assert code == 0 and "local presence: on; daily cap: 200" in out

    code, out, _ = run(
        capsys, "callerid", "pick", "--campaign", name, "--phone", "+13055559999", "--json"
    )
    assert code == 0
    got = json.loads(out)
    assert got["caller_id"] == "+13055550100"
    assert got["reason"].startswith("local presence: same area code 305")


def test_bad_input_exits_2_with_one_line(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    name = f"cli-pool-{time.monotonic_ns()}"
    run(capsys, "campaign", "create", "--name", name, "--caller-id", "+16505550100")
    code, _, err = run(capsys, "callerid", "set", "--campaign", name, "--numbers", "12")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "items[0].number" in err
    code, _, err = run(capsys, "callerid", "pick", "--campaign", name, "--phone", "x")
    assert code == 2 and "phone" in err
