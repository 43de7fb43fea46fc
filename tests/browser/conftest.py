"""A real headless Chromium, with third-party cookies blocked, and HTTPS servers on two host names."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ibm_lms.extensions import db
from tests.conftest import make_app
from tests.platform import PlatformServer, make_test_server

CHROMIUM = "/usr/bin/chromium"
TOOL_HOST = "tool.test"
PLATFORM_HOST = "platform.test"


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # The hook sees every collected test of the session, not only this folder's.
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for both host names and the loopback address."""
    folder = tmp_path_factory.mktemp("tls")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TOOL_HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName(TOOL_HOST), x509.DNSName(PLATFORM_HOST),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: install the Debian packages chromium and chromium-driver")
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")


@pytest.fixture(scope="session")
def playwright():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def _chromium(playwright, tmp_path_factory, preferences: dict):
    profile = tmp_path_factory.mktemp("chromium-profile")
    default = profile / "Default"
    default.mkdir()
    (default / "Preferences").write_text(json.dumps({"profile": preferences}))
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        ignore_https_errors=True,
        args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--host-resolver-rules=MAP {TOOL_HOST} 127.0.0.1, MAP {PLATFORM_HOST} 127.0.0.1",
        ],
    )
    try:
        yield context
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(playwright, tmp_path_factory):
    """The user's (or the agency's) setting "Block third-party cookies"."""
    yield from _chromium(playwright, tmp_path_factory, {"cookie_controls_mode": 1, "block_third_party_cookies": True})


@pytest.fixture(scope="session")
def cookieless_browser(playwright, tmp_path_factory):
    """A browser that keeps no cookie at all for the tool's site, partitioned or not (as Safari may)."""
    yield from _chromium(playwright, tmp_path_factory, {
        "cookie_controls_mode": 1, "block_third_party_cookies": True,
        "content_settings": {"exceptions": {"cookies": {f"[*.]{TOOL_HOST},*": {"setting": 2}}}},
    })


def _new_page(context):
    # The browsers last the whole session, so a page is closed here, where a failing test cannot skip it.
    page = context.new_page()
    yield page
    page.close()


@pytest.fixture
def page(browser):
    yield from _new_page(browser)


@pytest.fixture
def cookieless_page(cookieless_browser):
    yield from _new_page(cookieless_browser)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cross_site(app, database_url, tmp_path, certificate, monkeypatch):
    """The tool on https://tool.test, the platform on https://platform.test, registered with each other."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificate[0])  # the tool trusts the platform's test certificate
    tool_port = _free_port()
    tool_url = f"https://{TOOL_HOST}:{tool_port}"
    platform = PlatformServer(ssl_context=certificate, public_host=PLATFORM_HOST, tool_base_url=tool_url).start()
    # The browser resolves platform.test; the tool's own requests (keys, token, grades) go to the loopback
    # address the certificate also names, as a server reaches a Moodle on its own network.
    loopback = f"https://127.0.0.1:{platform.port}"
    platform.services.base_url = loopback
    platform.services.token_url = platform.token_url.replace(platform.base_url, loopback)
    tool = make_app(database_url, tmp_path / "tool-instance", BASE_URL=tool_url)
    with tool.app_context():
        from ibm_lms.content import service as content
        from ibm_lms.lti import service as lti

        content.load(Path(tool.config["COURSES_DIR"]))
        lti.add_platform(
            tenant_slug="ua-academy", issuer=platform.base_url, client_id=platform.sim.client_id,
            auth_login_url=platform.auth_login_url, auth_token_url=platform.services.token_url,
            keyset_url=f"https://127.0.0.1:{platform.port}/mod/lti/certs.php",
            deployment_ids=[platform.sim.deployment_id],
        )
        db.session.remove()
    platform.tool_app = tool  # for tests that run the tool's worker (grades) against this platform
    # The platform verifies the tool's token requests with the keys the tool publishes.
    platform.services.tool_jwks = lambda: tool.test_client().get("/.well-known/jwks.json").get_json()
    server = make_test_server("127.0.0.1", tool_port, tool, certificate=certificate)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield platform, tool_url
    server.shutdown()
    platform.stop()
