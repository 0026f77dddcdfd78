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


def test_a_master_data_import_is_audited(tmp_path: Path) -> None:
    import subprocess
    import sys

    from seamline.adapters.db import make_engine
    from seamline.auth.store import AuthStore

    db = f"sqlite:///{tmp_path}/i.db"
    repo = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", "seamline.entrypoints.cli", "import"]
    assert subprocess.run([*cmd, str(repo / "examples" / "factory"), "--db", db], capture_output=True).returncode == 0
    assert subprocess.run([*cmd, str(tmp_path / "missing"), "--db", db], capture_output=True).returncode != 0
    engine = make_engine(db)
    total, items = AuthStore(engine).audit_entries(10, 0)
    engine.dispose()
    assert total == 1  # the failed import changed nothing and is not a change on record
    assert items[0]["action"] == "cli import" and items[0]["actor"].startswith("cli:")
    assert items[0]["detail"]["argv"][1].endswith("examples/factory")
