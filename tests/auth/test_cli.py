"""The first admin and a gateway token from the command line; no password, no account."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from seamline.entrypoints.cli import app


def test_first_admin_and_a_gateway_token(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/c.db"
    run = CliRunner().invoke
    r = run(app, ["users", "add", "ada", "--role", "admin", "--db", db], input="short\nshort\n")
    assert r.exit_code == 2 and "at least 10 characters" in r.output
    r = run(app, ["users", "list", "--db", db])
    assert r.exit_code == 0 and r.output.strip() == ""  # nothing was created: no default account either
    pw = tmp_path / "pw"
    pw.write_text("a-long-enough-secret\n")
    r = run(app, ["users", "add", "ada", "--role", "admin", "--password-file", str(pw), "--db", db])
    assert r.exit_code == 0 and json.loads(r.output)["roles"] == ["admin"]
    r = run(app, ["token", "hall 2", "--role", "gateway", "--db", db])
    token = json.loads(r.output)["token"]
    assert token.startswith("slt_") and len(token) > 40
    r = run(app, ["users", "set", "ada", "--disabled", "--db", db])
    assert r.exit_code == 0 and json.loads(r.output)["active"] is False
