"""A real IMAP server for the e-mail-in tests: Debian's dovecot, started on a free loopback
port with its whole configuration, state and Maildir in a temporary directory.

As a normal user dovecot runs entirely as that user. As root (CI) dovecot refuses to run
its login processes or touch mail as root, so they run as the package's unprivileged
users (``dovenull``, ``dovecot``) and the Maildir belongs to ``dovecot``. Messages are
delivered with IMAP APPEND, so the test never writes files dovecot owns.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from guanxi.common.tests.smtp import free_port

DOVECOT = "/usr/sbin/dovecot"
USER = "crm"
PASSWORD = "imap-test-secret"


def available() -> bool:
    return os.access(DOVECOT, os.X_OK)


class DovecotServer:
    def __init__(self) -> None:
        self.port = free_port()
        # Short path: dovecot's unix sockets live under base_dir (108-byte limit).
        self.root = Path(tempfile.mkdtemp(prefix="gx-imap-"))
        self.config = self.root / "dovecot.conf"
        self.user = USER
        self.password = PASSWORD

    def _identity(self) -> dict:
        if os.geteuid() == 0:
            mail = pwd.getpwnam("dovecot") if _has_user("dovecot") else pwd.getpwnam("nobody")
            login = "dovenull" if _has_user("dovenull") else "nobody"
            return {
                "login_user": login,
                "internal_user": mail.pw_name,
                "internal_group": "",
                "uid": mail.pw_uid,
                "gid": mail.pw_gid,
                "root": True,
            }
        me = pwd.getpwuid(os.geteuid())
        return {
            "login_user": me.pw_name,
            "internal_user": me.pw_name,
            "internal_group": "",
            "uid": me.pw_uid,
            "gid": me.pw_gid,
            "root": False,
        }

    def write_config(self) -> None:
        who = self._identity()
        root = self.root
        mail = root / "mail"
        run = root / "run"
        mail.mkdir()
        run.mkdir()
        if who["root"]:
            os.chmod(root, 0o755)
            os.chown(mail, who["uid"], who["gid"])
        (root / "users").write_text(
            f"{self.user}:{{PLAIN}}{self.password}:{who['uid']}:{who['gid']}::{mail}/{self.user}::\n"
        )
        services = "service auth {\n  user = root\n}\n" if who["root"] else ""
        self.config.write_text(
            f"""protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {run}/state
instance_name = gx-imap-{self.port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {who["login_user"]}
default_internal_user = {who["internal_user"]}
first_valid_uid = 1
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
{services}"""
        )

    def start(self) -> DovecotServer:
        self.write_config()
        # The daemon keeps inherited pipes open: send its output to the log, not a pipe.
        with open(self.root / "start.log", "wb") as out:
            subprocess.run([DOVECOT, "-c", str(self.config)], check=True, stdout=out, stderr=out)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                client = self.client()
                client.logout()
                return self
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def stop(self) -> None:
        subprocess.run(
            [DOVECOT, "-c", str(self.config), "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pid_file = self.root / "run" / "master.pid"
        deadline = time.monotonic() + 10
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def client(self, folder: str | None = None) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(self.user, self.password)
        if folder:
            client.select(folder)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> int:
        """APPEND one message; returns its UID."""
        client = self.client()
        try:
            status, data = client.append(folder, None, None, raw)
            assert status == "OK", data
            text = data[0].decode()
            return int(text.split("APPENDUID", 1)[1].split()[1].rstrip("]"))
        finally:
            client.logout()

    def create_folder(self, name: str) -> None:
        client = self.client()
        try:
            client.create(name)
        finally:
            client.logout()

    def delete_folder(self, name: str) -> None:
        client = self.client()
        try:
            client.delete(name)
        finally:
            client.logout()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
