"""``dialer simulate``: one JSON object with the headline figures, one-line errors."""

from __future__ import annotations

import json

import pytest

from dialer.cli import main


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["simulate", "--hours", "0.25", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_has_the_headline_figures(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, "--agents", "8", "--mode", "predictive", "--seed", "3")
    for key in (
        "occupancy",
        "abandon_rate",
        "dials",
        "human_answers",
        "connected",
        "abandoned",
        "mean_wait_s",
    ):
        assert key in out
    assert out["mode"] == "predictive"
    assert out["agents"] == 8
    assert out["physical_limit"] == pytest.approx(0.9)
    assert out["human_answers"] == out["connected"] + out["abandoned"]


@pytest.mark.parametrize(
    "args",
    [
        ("--mode", "progressive"),
        ("--mode", "ratio", "--ratio", "2.5"),
        ("--mode", "power", "--ratio", "1.5"),
        ("--mode", "vicidial"),
        ("--talk-dist", "lognormal", "--p-human", "0.2", "--p-machine", "0.2"),
        ("--p-human-end", "0.1", "--wrap", "5", "--talk", "60", "--max-lines", "10"),
    ],
)
def test_every_option_runs(capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    out = _json(capsys, *args)
    assert 0.0 <= out["occupancy"] <= 1.0


def test_same_seed_same_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert _json(capsys, "--seed", "9") == _json(capsys, "--seed", "9")


def test_best_ratio_is_reported_for_comparison(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, "--agents", "5", "--best-ratio", "--seeds", "2", "--talk", "180")
    best = out["best_ratio"]
    assert best["ratio"] >= 1.0
    assert best["abandon_rate"] <= 0.03
    assert best["seeds"] == [1, 2]


def test_human_readable_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--hours", "0.1", "--mode", "ratio", "--ratio", "2"]) == 0
    text = capsys.readouterr().out
    assert "occupancy" in text
    assert "abandon rate" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--mode", "ratio"), "needs a ratio"),
        (("--mode", "ratio", "--ratio", "0.5"), "needs a ratio >= 1.0"),
        (("--agents", "0"), "--agents"),
        (("--hours", "0"), "--hours"),
        (("--p-human", "0.9", "--p-machine", "0.3"), "must not exceed 1"),
        (("--p-human", "1.5"), "p_human"),
        (("--max-abandon", "0"), "max_abandon_rate"),
        (("--mode", "preview"), "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    assert main(["simulate", "--hours", "0.1", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
