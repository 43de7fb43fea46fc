"""Run by scripts/wheel-check with the installed package's Python, outside the checkout: serves the demo from the
installed package, launches as a trainee in Russian through the demo platform (as a browser would: the login,
the platform's form post, the launch), and checks that the first page the trainee sees speaks Russian."""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import requests
from babel.support import Translations

import ibm_lms
from ibm_lms.config import BUNDLED_DIR, CHECKOUT


def fields(page: str) -> dict[str, str]:
    return {html.unescape(name): html.unescape(value)
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}


def launch_as_trainee(base: str, locale: str, verify: str | bool = True) -> requests.Response:
    """The demo's trainee launch as a browser does it: the login, the platform's form post, the launch; returns
    the first page the trainee sees (checked to be a 200 in the locale asked for)."""
    browser = requests.Session()
    # Per request: a session's own `verify` loses to REQUESTS_CA_BUNDLE from the environment.
    options = {"timeout": 10, "verify": verify}
    demo = browser.get(base + "/demo/", **options).text
    launch_url = html.unescape(re.search(r'<form class="demo-launch" method="get" action="([^"]+)"', demo).group(1))
    # The demo platform starts the tool's login for the activity, as Moodle does (a redirect the browser follows).
    login = browser.get(urljoin(base + "/demo/", launch_url),
                        params={"activity": "catalogue", "locale": locale, "login_hint": "trainee"}, **options)
    # The login page checks the browser keeps cookies, then goes on to the platform (what its script does).
    auth_url = html.unescape(re.search(r'data-auth-url="([^"]+)"', login.text).group(1))
    platform = browser.get(auth_url, **options)
    found = re.search(r'<form id="form-post" method="post" action="([^"]+)"', platform.text)
    assert found, (platform.status_code, platform.text[:1500])
    posted, action = fields(platform.text), html.unescape(found.group(1))
    landed = browser.post(action, data=posted, **options)
    assert landed.status_code == 200, (landed.status_code, landed.text[:500])
    assert f'lang="{locale}"' in landed.text, landed.text[:500]
    return landed


def main() -> None:
    assert not CHECKOUT, f"the package under test is a checkout: {ibm_lms.__file__}"
    assert (BUNDLED_DIR / "translations" / "ru" / "LC_MESSAGES" / "messages.mo").is_file(), "no compiled catalogs"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).parent / "ibm-lms"), "demo", "--port", str(port)]
    log = Path("server.log").open("w")  # noqa: SIM115 (open while the server runs)
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "IBM_LMS_INSTANCE_PATH": str(Path.cwd() / "instance")})
    try:
        for _ in range(300):
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise SystemExit("the installed demo did not start:\n" + Path("server.log").read_text())
        landed = launch_as_trainee(base, "ru")
        catalog = Translations.load(str(BUNDLED_DIR / "translations"), ["ru"])
        russian = catalog.gettext("Courses")
        assert russian != "Courses" and russian in landed.text, "the page is not in Russian"
        print(f"installed package {ibm_lms.__file__}: a launch in Russian landed on {landed.url}")
    finally:
        server.terminate()
        server.wait(15)
        log.close()
    build_a_package()


def build_a_package() -> None:
    """`ibm-lms scorm build` from the installed package: its runtime scripts and templates travel in the wheel,
    and the packages land in ./scorm_packages, not in site-packages."""
    subprocess.run([str(Path(sys.executable).parent / "ibm-lms"), "scorm", "build", "--course", "document-security",
                    "--locale", "ru", "--format", "cmi5"], check=True, capture_output=True,
                   env={**os.environ, "IBM_LMS_INSTANCE_PATH": str(Path.cwd() / "instance"), "IBM_LMS_DEMO": "1"})
    package = Path.cwd() / "scorm_packages" / "document-security-ru-cmi5.zip"
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        assert {"cmi5.xml", "index.html", "assets/lms.js", "assets/course.js", "assets/app.css"} <= names, names
        assert '<html lang="ru">' in archive.read("index.html").decode()
    print(f"installed package: a course package built at {package}")


if __name__ == "__main__":
    main()
