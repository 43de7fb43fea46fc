"""The shipped deployment files, filled in with checked values.

A value is put into a configuration file that nginx or systemd will parse, so every value is checked against
what its place may hold: nothing a value contains can end a directive, open a block or add a line."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

FILES = Path(__file__).resolve().parent / "templates"
SYSTEMD_UNITS = ("ibm-lms.service", "ibm-lms-worker.service", "ibm-lms-nightly.service", "ibm-lms-nightly.timer")

_PLACEHOLDER = re.compile(r"\{\{ (\w+) \}\}")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_SAFE_PATH = re.compile(r"/[A-Za-z0-9._/@+-]*\Z")
_ACCOUNT = re.compile(r"[a-z_][a-z0-9_-]{0,31}\Z")


class DeployValueError(ValueError):
    """A value that cannot go into a deployment file, with the option it came from."""

    def __init__(self, option: str, problem: str):
        super().__init__(f"{option}: {problem}")
        self.option = option


def server_name(value: str, option: str = "--server-name") -> str:
    """A DNS name or an IP address, as nginx's server_name and a URL's host take it."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise DeployValueError(option, f"{value!r} is not a host name (letters, digits, hyphens and dots)")
    return value


def absolute_path(value: str, option: str) -> str:
    if not value.startswith("/"):
        raise DeployValueError(option, f"{value!r} is not an absolute path")
    if not _SAFE_PATH.match(value):
        raise DeployValueError(option, f"{value!r} holds a space or a character a configuration file would read "
                                       "as syntax; use a path of letters, digits and . _ - / @ +")
    return value.rstrip("/") or "/"


def account(value: str, option: str) -> str:
    if not _ACCOUNT.match(value):
        raise DeployValueError(option, f"{value!r} is not a system account name")
    if value == "root":
        raise DeployValueError(option, "the tool must not run as root; create an account for it "
                                       "(adduser --system --group ibm-lms)")
    return value


def upstream(value: str, option: str = "--upstream") -> str:
    """host:port of `ibm-lms serve`, or unix:/path of a socket."""
    if value.startswith("unix:"):
        absolute_path(value.removeprefix("unix:"), option)
        return value
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise DeployValueError(option, f"{value!r} is not host:port")
    server_name(host.strip("[]"), option)
    return value


@dataclass(frozen=True)
class NginxSite:
    server_name: str
    certificate: str
    certificate_key: str
    static_root: str
    upstream: str = "127.0.0.1:5000"
    https_port: int = 443
    http_port: int = 80
    max_body: str = "24m"


@dataclass(frozen=True)
class SystemdUnits:
    command: str
    instance_path: str
    environment_file: str
    user: str = "ibm-lms"
    group: str = "ibm-lms"
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 2
    threads: int = 4


def nginx_site(site: NginxSite, release: str) -> str:
    values = {
        "server_name": server_name(site.server_name),
        "certificate": absolute_path(site.certificate, "--certificate"),
        "certificate_key": absolute_path(site.certificate_key, "--certificate-key"),
        "static_root": absolute_path(site.static_root, "--static-root"),
        "upstream": upstream(site.upstream),
        "https_port": str(site.https_port),
        "https_port_suffix": "" if site.https_port == 443 else f":{site.https_port}",
        "http_port": str(site.http_port),
        "max_body": site.max_body,
        "release": release,
    }
    return _fill("nginx-site.conf", values)


def systemd_units(units: SystemdUnits, release: str) -> dict[str, str]:
    values = {
        "command": " ".join(absolute_path(part, "--command") if index == 0 else _word(part)
                            for index, part in enumerate(units.command.split(" "))),
        "instance_path": absolute_path(units.instance_path, "--instance-path"),
        "environment_file": absolute_path(units.environment_file, "--environment-file"),
        "user": account(units.user, "--user"),
        "group": account(units.group, "--group"),
        "host": server_name(units.host, "--host"),
        "port": str(units.port),
        "workers": str(units.workers),
        "threads": str(units.threads),
        "release": release,
    }
    return {name: _fill(name, values) for name in SYSTEMD_UNITS}


def _word(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._-]+", value):
        raise DeployValueError("--command", f"{value!r} is not a plain word")
    return value


def _fill(name: str, values: dict[str, str]) -> str:
    text = (FILES / name).read_text(encoding="utf-8")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)
