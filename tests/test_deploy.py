"""The shipped deployment files: values are checked before they reach a configuration file, systemd reads the
units without a complaint, and the nginx site, started by Debian's nginx in front of `ibm-lms serve`, carries a
whole launch over TLS with one trusted proxy hop."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ibm_lms.deploy import files
from tests.certificates import self_signed

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _site(**changes) -> files.NginxSite:
    values = {"server_name": "lms.border.example", "certificate": "/etc/ssl/lms.pem",
              "certificate_key": "/etc/ssl/lms.key", "static_root": str(ROOT / "ibm_lms" / "static")}
    return files.NginxSite(**{**values, **changes})


def _units(**changes) -> files.SystemdUnits:
    values = {"command": f"{sys.executable} -m ibm_lms", "instance_path": "/var/lib/ibm-lms",
              "environment_file": "/etc/ibm-lms/ibm-lms.env"}
    return files.SystemdUnits(**{**values, **changes})


@pytest.mark.parametrize(("changes", "option"), [
    ({"server_name": "lms.example; return 200"}, "--server-name"),
    ({"server_name": "lms.example\n    location"}, "--server-name"),
    ({"server_name": "-lms.example"}, "--server-name"),
    ({"certificate": "fullchain.pem"}, "--certificate"),
    ({"certificate_key": "/etc/ssl/my key.pem"}, "--certificate-key"),
    ({"static_root": "/srv/static;}"}, "--static-root"),
    ({"upstream": "127.0.0.1"}, "--upstream"),
    ({"upstream": "unix:run/ibm.sock"}, "--upstream"),
])
def test_a_value_that_would_change_the_nginx_site_is_refused_with_its_option(changes, option):
    with pytest.raises(files.DeployValueError) as refused:
        files.nginx_site(_site(**changes), "1.0")
    assert refused.value.option == option and str(refused.value).startswith(f"{option}: ")


@pytest.mark.parametrize(("changes", "option"), [
    ({"user": "root"}, "--user"),
    ({"user": "Ibm Lms"}, "--user"),
    ({"instance_path": "var/lib/ibm-lms"}, "--instance-path"),
    ({"environment_file": "/etc/ibm-lms/env\nExecStartPre=/bin/sh"}, "--environment-file"),
    ({"command": "/opt/ibm-lms/bin/ibm-lms; rm"}, "--command"),
])
def test_a_value_that_would_change_a_unit_is_refused_with_its_option(changes, option):
    with pytest.raises(files.DeployValueError) as refused:
        files.systemd_units(_units(**changes), "1.0")
    assert refused.value.option == option


def test_the_site_is_written_for_its_host_ports_and_static_folder():
    text = files.nginx_site(_site(https_port=8443, http_port=8080, upstream="127.0.0.1:5050"), "2.1")
    assert "{{" not in text and "release 2.1" in text
    assert "server 127.0.0.1:5050;" in text and "listen 8443 ssl http2;" in text and "listen 8080;" in text
    assert "return 301 https://$host:8443$request_uri;" in text
    assert f"alias {ROOT / 'ibm_lms' / 'static'}/;" in text
    # One trusted hop: the client's own X-Forwarded-For is replaced, not extended.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    assert "$proxy_add_x_forwarded_for" not in text
    assert "return 301 https://$host$request_uri;" in files.nginx_site(_site(), "2.1")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not on this machine")
def test_systemd_reads_the_units_without_a_complaint(tmp_path):
    units = files.systemd_units(_units(workers=3, port=5055), "1.0")
    assert set(units) == set(files.SYSTEMD_UNITS)
    for name, text in units.items():
        assert "{{" not in text
        (tmp_path / name).write_text(text)
    assert f"ExecStart={sys.executable} -m ibm_lms serve --host 127.0.0.1 --port 5055 --workers 3" in \
        units["ibm-lms.service"]
    result = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / name) for name in units)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    # A unit with a mistake is reported, so the silence above means something.
    broken = (tmp_path / "ibm-lms.service").read_text().replace("Restart=on-failure", "Restart=sometimes")
    (tmp_path / "ibm-lms.service").write_text(broken)
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "ibm-lms.service")],
                            capture_output=True, text=True, timeout=60)
    assert "sometimes" in result.stderr


def test_the_cli_writes_units_once_and_overwrites_only_when_asked(tmp_path):
    env = {**os.environ, "IBM_LMS_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("IBM_LMS_SECRET_KEY", None)  # writing files needs no secret
    command = [sys.executable, "-m", "ibm_lms", "deploy", "systemd", "--out", str(tmp_path / "units"),
               "--instance-path", "/srv/ibm-lms"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    assert sorted(path.name for path in (tmp_path / "units").iterdir()) == sorted(files.SYSTEMD_UNITS)
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert again.returncode == 0, again.stderr
    changed = subprocess.run([*command[:-1], "/srv/other"], env=env, capture_output=True, text=True, timeout=120,
                             cwd=ROOT)
    assert changed.returncode == 1 and "--replace" in changed.stderr and "Traceback" not in changed.stderr
    assert "/srv/ibm-lms" in (tmp_path / "units" / "ibm-lms.service").read_text()
    replaced = subprocess.run([*command[:-1], "/srv/other", "--replace"], env=env, capture_output=True, text=True,
                              timeout=120, cwd=ROOT)
    assert replaced.returncode == 0 and "/srv/other" in (tmp_path / "units" / "ibm-lms.service").read_text()
    refused = subprocess.run([sys.executable, "-m", "ibm_lms", "deploy", "nginx", "--server-name", "lms example",
                              "--certificate", "/a.pem", "--certificate-key", "/a.key"], env=env,
                             capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert refused.returncode == 2 and "--server-name: 'lms example' is not a host name" in refused.stderr
    (tmp_path / "a-file").write_text("")
    for kind, out in (("systemd", []), ("nginx", ["--server-name", "lms.example", "--certificate", "/a.pem",
                                                  "--certificate-key", "/a.key"])):
        blocked = subprocess.run([sys.executable, "-m", "ibm_lms", "deploy", kind, *out, "--out",
                                  str(tmp_path / "a-file" / "inside")], env=env, capture_output=True, text=True,
                                 timeout=120, cwd=ROOT)
        assert blocked.returncode == 1 and ": cannot be written (" in blocked.stderr, blocked.stderr
        assert "Traceback" not in blocked.stderr


def _nginx_main_config(folder: Path, site: Path) -> Path:
    """The test's own nginx.conf around the shipped site: everything nginx writes stays in the test's folder."""
    for temporary in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temporary).mkdir()
    main = folder / "nginx.conf"
    main.write_text(f"""
user root;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
daemon off;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {site};
}}
""")
    return main


def _wait_for(url: str, process: subprocess.Popen, log: Path, **options) -> requests.Response:
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, f"{process.args[0]} stopped:\n{log.read_text()[-3000:]}"
        try:
            return requests.get(url, timeout=2, **options)
        except requests.ConnectionError:
            assert time.monotonic() < deadline, f"{url} did not answer:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)


def _launcher():
    spec = importlib.util.spec_from_file_location("wheel_launch", ROOT / "scripts" / "wheel_launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.launch_as_trainee


def test_a_launch_goes_through_the_shipped_nginx_site(tmp_path):
    assert Path(NGINX).is_file(), "nginx is not installed: apt-get install nginx (scripts/test does)"
    cert_file, key_file = self_signed(tmp_path)
    tool_port, https_port, http_port = _free_port(), _free_port(), _free_port()
    base = f"https://127.0.0.1:{https_port}"
    env = {**os.environ, "IBM_LMS_INSTANCE_PATH": str(tmp_path / "instance"), "IBM_LMS_DEMO": "1",
           "IBM_LMS_BASE_URL": base, "IBM_LMS_RATE_LIMITS": "1", "IBM_LMS_RATE_LIMIT_PUBLIC": "3 per minute",
           # The tool fetches the demo platform's keys from its own public address, through nginx.
           "REQUESTS_CA_BUNDLE": str(cert_file)}
    for name in ("IBM_LMS_DATABASE_URL", "IBM_LMS_SECRET_KEY"):
        env.pop(name, None)
    setup = subprocess.run([sys.executable, "-m", "ibm_lms", "demo", "--no-serve"], env=env, capture_output=True,
                           text=True, timeout=300, cwd=ROOT)
    assert setup.returncode == 0, setup.stderr[-2000:]

    site = tmp_path / "ibm-lms.conf"
    written = subprocess.run([sys.executable, "-m", "ibm_lms", "deploy", "nginx", "--server-name", "127.0.0.1",
                              "--certificate", str(cert_file), "--certificate-key", str(key_file),
                              "--upstream", f"127.0.0.1:{tool_port}", "--https-port", str(https_port),
                              "--http-port", str(http_port), "--out", str(site)],
                             env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert written.returncode == 0, written.stderr
    (tmp_path / "nginx").mkdir()
    main = _nginx_main_config(tmp_path / "nginx", site)
    checked = subprocess.run([NGINX, "-t", "-c", str(main)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr

    tool_log, proxy_log = tmp_path / "tool.log", tmp_path / "nginx.log"
    with tool_log.open("w") as tool_out, proxy_log.open("w") as proxy_out:
        tool = subprocess.Popen([sys.executable, "-m", "ibm_lms", "serve", "--port", str(tool_port), "--workers", "1"],
                                env=env, cwd=ROOT, stdout=tool_out, stderr=subprocess.STDOUT)
        proxy = subprocess.Popen([NGINX, "-c", str(main)], stdout=proxy_out, stderr=subprocess.STDOUT)
        try:
            health = _wait_for(f"{base}/healthz", proxy, proxy_log, verify=str(cert_file))
            while health.status_code == 502:  # nginx is up before the tool
                health = _wait_for(f"{base}/healthz", tool, tool_log, verify=str(cert_file))
            assert health.status_code == 200 and health.headers["Strict-Transport-Security"].startswith("max-age=")

            # Plain http only redirects, to the same address over https.
            plain = requests.get(f"http://127.0.0.1:{http_port}/lti/login?x=1", allow_redirects=False, timeout=5)
            assert plain.status_code == 301 and plain.headers["Location"] == f"{base}/lti/login?x=1"

            # The request id is nginx's, whatever the client sends, and the tool answers with it.
            answer = requests.get(f"{base}/healthz", headers={"X-Request-ID": "chosen-by-the-client"},
                                  verify=str(cert_file), timeout=5)
            assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])

            # nginx serves the static files itself; a fingerprinted address is cached for good.
            css = requests.get(f"{base}/static/css/app.css?v=1", verify=str(cert_file), timeout=5)
            assert css.status_code == 200 and css.content == (ROOT / "ibm_lms/static/css/app.css").read_bytes()
            assert "immutable" in css.headers["Cache-Control"] and css.headers["Server"].startswith("nginx")
            bare = requests.get(f"{base}/static/css/app.css", verify=str(cert_file), timeout=5)
            assert bare.headers["Cache-Control"] == "no-cache"

            # A whole launch, over TLS through the proxy, lands on the trainee's first page in Georgian.
            landed = _launcher()(base, "ka", verify=str(cert_file))
            assert landed.url.startswith(base + "/")

            # The rate limit counts the address nginx saw: a forged X-Forwarded-For buys no new allowance.
            statuses = [requests.get(f"{base}/verify/not-a-credential", verify=str(cert_file), timeout=5,
                                     headers={"X-Forwarded-For": f"203.0.113.{attempt}"}).status_code
                        for attempt in range(4)]
            assert statuses[:3] == [404, 404, 404] and statuses[3] == 429, statuses
        finally:
            proxy.terminate()
            tool.terminate()
            proxy.wait(15)
            tool.wait(15)
    assert "[emerg]" not in (tmp_path / "nginx" / "error.log").read_text()
