"""Per-station broker credentials and ACLs for Mosquitto.

Each station's sensor gets its own user, ``{factory}/{station}``, allowed to publish only to its
own topic; each ingest process gets a user (``seamline-ingest``, or ``seamline-ingest-<name>`` for
the members of a scale-out group) that may read every station's events. Passwords are
hashed by Mosquitto's own ``mosquitto_passwd``; the ACL file is regenerated from the list of
provisioned users, so it never drifts from the password file. Send the broker SIGHUP (or restart
it) after provisioning: Mosquitto re-reads both files then.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
from pathlib import Path

from ..domain.events import MAX_PAYLOAD_BYTES, TOPIC_FILTER, topic_for
from ..domain.topic_ids import topic_id_problem

INGEST_USER = "seamline-ingest"
# The broker refuses what ingest would refuse: MAX_PAYLOAD_BYTES (64 KiB) is the protocol's one
# limit (domain/events.py), enforced in ingest too.
__all__ = ["MAX_PACKET_BYTES", "MAX_PAYLOAD_BYTES"]
# A whole MQTT packet: the payload plus the fixed header, the topic (a factory and a station id of
# at most 64 characters each, up to 4 bytes each in UTF-8, plus the fixed levels) and MQTT 5
# properties. 4 KiB of headroom covers them with room to spare.
MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 4096


class ProvisioningError(ValueError):
    """A refused id or user name, with a bilingual message fit to show."""


def is_ingest_user(user: str) -> bool:
    """``seamline-ingest`` or ``seamline-ingest-<name>``; never a station user (those hold a ``/``)."""
    return "/" not in user and (user == INGEST_USER or user.startswith(INGEST_USER + "-"))


def check_station_ids(factory: str, station: str) -> None:
    for kind, value in (("factory", factory), ("station", station)):
        problem = topic_id_problem(kind, value)
        if problem:
            raise ProvisioningError(problem)


def check_ingest_user(user: str) -> None:
    suffix = user[len(INGEST_USER) + 1 :] if user.startswith(INGEST_USER + "-") else None
    if not is_ingest_user(user) or (suffix is not None and topic_id_problem("ingest", suffix)) or suffix == "":
        raise ProvisioningError(
            f"接收进程的用户名须为 {INGEST_USER} 或 {INGEST_USER}-名称 / an ingest user is {INGEST_USER} or "
            f"{INGEST_USER}-<name> (no / + # : or spaces): {user!r}"
        )


def station_user(factory: str, station: str) -> str:
    return f"{factory}/{station}"


def gateway_user(factory: str, name: str) -> str:
    """A Modbus gateway (docs/gateway.md) publishes for many stations of one factory.
    ``gateway.{factory}.{name}``: mosquitto_passwd refuses ':' and a URL's user part '@' and '/'."""
    if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise ValueError(f"网关名只能用字母、数字、- 和 _ / a gateway name is letters, digits, - and _: {name!r}")
    return f"gateway.{factory}.{name}"


def _passwd_bin() -> str:
    exe = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    if not Path(exe).exists():
        raise RuntimeError("mosquitto_passwd not found: install the Debian package `mosquitto`")
    return exe


def _own(path: Path) -> None:
    """Mosquitto started as root drops to the `mosquitto` user and must still read the file."""
    import os
    import pwd

    path.chmod(0o600)
    if os.geteuid() == 0:
        with contextlib.suppress(KeyError):
            shutil.chown(path, pwd.getpwnam("mosquitto").pw_name)


def set_password(passwd_file: Path, user: str, password: str) -> None:
    passwd_file.parent.mkdir(parents=True, exist_ok=True)
    args = [_passwd_bin(), "-b", str(passwd_file), user, password]
    if not passwd_file.exists():
        args.insert(1, "-c")
    subprocess.run(args, check=True, capture_output=True)
    _own(passwd_file)


def users(passwd_file: Path) -> list[str]:
    if not passwd_file.exists():
        return []
    return [line.split(":", 1)[0] for line in passwd_file.read_text().splitlines() if ":" in line]


def write_acl(passwd_file: Path, acl_file: Path) -> None:
    """One ACL block per provisioned user: stations write their own topic, ingest reads all.
    A user whose name could widen its grant (a wildcard, an extra level) gets no block at all."""
    blocks = []
    for user in sorted(users(passwd_file)):
        if is_ingest_user(user):
            blocks.append(f"user {user}\ntopic read {TOPIC_FILTER}\n")
        elif user.startswith("gateway."):
            factory = user[len("gateway.") :].rsplit(".", 1)[0]
            blocks.append(f"user {user}\ntopic write {topic_for(factory, '+')}\n")
        elif "/" in user:
            factory, station = user.split("/", 1)
            if topic_id_problem("factory", factory) or topic_id_problem("station", station):
                continue  # written by hand or by an older version: no grant rather than a wildcard
            blocks.append(f"user {user}\ntopic write {topic_for(factory, station)}\n")
    acl_file.write_text("# generated by `seamline provision-station`: edits are overwritten\n\n" + "\n".join(blocks))
    _own(acl_file)


def provision_station(factory: str, station: str, passwd_file: Path, acl_file: Path) -> str:
    """Create (or renew) a station's credentials; returns the new password, shown once."""
    check_station_ids(factory, station)
    password = secrets.token_urlsafe(18)
    set_password(passwd_file, station_user(factory, station), password)
    write_acl(passwd_file, acl_file)
    return password


def provision_gateway(factory: str, name: str, passwd_file: Path, acl_file: Path) -> str:
    """Create (or renew) a gateway's credentials: it may publish to every station of its factory."""
    password = secrets.token_urlsafe(18)
    set_password(passwd_file, gateway_user(factory, name), password)
    write_acl(passwd_file, acl_file)
    return password


def provision_ingest(passwd_file: Path, acl_file: Path, user: str = INGEST_USER) -> str:
    """An ingest process's user. Under the generated config the broker uses the user name as the
    client id, so each process of a scale-out group needs its own (``seamline-ingest-2``, …)."""
    check_ingest_user(user)
    password = secrets.token_urlsafe(24)
    set_password(passwd_file, user, password)
    write_acl(passwd_file, acl_file)
    return password


def broker_config(
    port: int,
    passwd_file: Path,
    acl_file: Path,
    bind: str = "0.0.0.0",
    persistence_dir: Path | None = None,
) -> str:
    """A Mosquitto configuration for production (Mosquitto 2.0).

    - No anonymous access; credentials and ACLs on.
    - ``use_username_as_clientid``: the broker replaces the client id a client sends by its user
      name, so a station's credentials cannot take the ingest's id (MQTT hands an id to the newest
      connection and throws the older off: the ingest would be disconnected and its session's
      queued messages taken over). A client can only ever displace itself.
    - ``persistence`` with ``autosave_on_changes``/``autosave_interval 1``: the in-memory database
      is written to disk (fsync'd, then renamed into place) after every pass of the broker's main
      loop that queued or changed anything, instead of every 30 minutes. A kill -9 or power cut
      therefore loses at most the messages of the pass being written (milliseconds), not the
      whole backlog. Each write rewrites the whole database: see docs/deploy.md for its cost.
    - ``message_size_limit``/``max_packet_size``: the broker drops a payload over 64 KiB (Mosquitto
      2.0 answers PUBACK 0x95 "packet too large") and drops a connection that sends a larger packet,
      so an oversized event never reaches ingest.
    """
    lines = [
        f"listener {port} {bind}",
        "allow_anonymous false",
        f"password_file {passwd_file}",
        f"acl_file {acl_file}",
        "use_username_as_clientid true",
        "persistence true",
    ]
    if persistence_dir is not None:
        lines.append(f"persistence_location {str(persistence_dir).rstrip('/')}/")
    lines += [
        "autosave_on_changes true",
        "autosave_interval 1",
        f"message_size_limit {MAX_PAYLOAD_BYTES}",
        f"max_packet_size {MAX_PACKET_BYTES}",
        "max_inflight_messages 1000",
        "max_queued_messages 1000000",
    ]
    return "\n".join(lines) + "\n"
