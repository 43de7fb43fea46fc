"""Origins as browsers serialise them; nothing else may reach a policy or a postMessage target."""

from __future__ import annotations

import pytest

from ibm_lms.lti.urls import origin_of, within_tool


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://moodle.example.ge/mod/lti/auth.php", "https://moodle.example.ge"),
        ("https://Moodle.Example.GE:443/", "https://moodle.example.ge"),
        ("http://127.0.0.1:5000/demo/platform", "http://127.0.0.1:5000"),
        ("https://[::1]:8443/x", "https://[::1]:8443"),
        ("https://мвс.укр/moodle", "https://xn--b1atq.xn--j1amh"),
    ],
)
def test_origins_come_out_as_browsers_send_them(url, origin):
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    "url",
    [
        "https://*", "https://*.example.ge", "http://* 'unsafe-inline'", "https://a b.example", "https://x;y",
        "https://x'y", "https://x,y", "https://admin:secret@moodle.example", "https://moodle.example:99999/",
        "https://-moodle.example", "https://moodle.example./", "ftp://moodle.example", "https:///path", "",
        "moodle.example", "https://[oops/",
    ],
)
def test_anything_but_a_host_name_or_address_has_no_origin(url):
    assert origin_of(url) is None


def test_within_tool_needs_the_same_scheme_host_and_path_prefix():
    assert within_tool("https://tool.example/lms/courses/", "https://tool.example/lms")
    assert not within_tool("https://tool.example/lmsx/", "https://tool.example/lms")
    assert not within_tool("http://tool.example/lms/", "https://tool.example/lms")


@pytest.mark.parametrize(("url", "allowed"), [
    ("http://localhost/moodle", True), ("http://127.0.0.1:8080/", True), ("http://127.5.0.1/", True),
    ("http://[::1]:8000/", True), ("http://moodle.example.ge/", False), ("http://10.0.0.5/", False),
    ("https://moodle.example.ge/", True), ("ftp://localhost/", False),
])
def test_an_https_tool_reaches_plain_http_platforms_on_its_own_machine_only(url, allowed):
    from ibm_lms.lti.urls import is_platform_url

    assert is_platform_url(url, "https://tool.example") is allowed
