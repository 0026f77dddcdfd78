"""`seamline aql` prints one JSON object; bad input exits 2 with a message."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from seamline.entrypoints.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (["2000"], {"code_letter": "K", "sample_size": 125, "accept": 7, "reject": 8}),
        (["2000", "--aql", "4.0"], {"code_letter": "K", "sample_size": 125, "accept": 10, "reject": 11}),
        (
            ["1,000", "--level", "II", "--aql", "2.5", "--inspection", "normal"],
            {"code_letter": "J", "sample_size": 80, "accept": 5, "reject": 6},
        ),
        (["2000", "--level", "I"], {"code_letter": "H", "sample_size": 50, "accept": 3, "reject": 4}),
        (["2000", "--inspection", "tightened"], {"code_letter": "K", "sample_size": 125, "accept": 5, "reject": 6}),
        (["120", "--aql", "1.0"], {"code_letter": "F", "sample_size": 13, "accept": 0, "reject": 1}),
        (
            ["5", "--aql", "2.5"],
            {"code_letter": "A", "sample_size": 5, "accept": 0, "reject": 1, "inspect_100_percent": True},
        ),
    ],
)
def test_aql_prints_one_json_object(args: list[str], want: dict) -> None:
    res = runner.invoke(app, ["aql", *args])
    assert res.exit_code == 0, res.output
    assert res.stdout.count("\n") == 1
    assert json.loads(res.stdout) == want


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (["lots"], "LOT_SIZE must be a whole number"),
        (["0"], "lot size"),
        (["100", "--aql", "3"], "not in the ISO 2859-1 series"),
        (["100", "--level", "V"], "inspection level"),
        (["100", "--inspection", "loose"], "inspection"),
    ],
)
def test_bad_input_exits_2(args: list[str], msg: str) -> None:
    res = runner.invoke(app, ["aql", *args])
    assert res.exit_code == 2
    assert msg in res.stderr
    assert res.stdout == ""
