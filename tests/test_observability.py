"""What operations staff see: a JSON log line per request without tokens or personal data, request ids,
Prometheus metrics for the monitoring host only, and a readiness check that knows the schema."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import text

from ibm_lms.extensions import db
from ibm_lms.observability import JsonFormatter


def test_every_answer_carries_a_request_id_and_a_well_formed_one_is_kept(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-ID"]
    assert client.get("/healthz", headers={"X-Request-ID": "moodle-42-abcdef"}).headers["X-Request-ID"] == \
        "moodle-42-abcdef"
    for forged in ("short", "has spaces and <script>", "x" * 65):
        answer = client.get("/healthz", headers={"X-Request-ID": forged}).headers["X-Request-ID"]
        assert answer != forged and len(answer) == 32


def test_a_request_is_logged_by_its_route_never_its_path_or_query(client, caplog):
    with caplog.at_level(logging.INFO, logger="ibm_lms.requests"):
        client.get("/verify/5b0c7e0a-1111-4222-8333-444455556666?ltik=secret-token-value")
    record = next(r for r in caplog.records if r.name == "ibm_lms.requests")
    line = json.loads(JsonFormatter().format(record))
    assert line["route"] == "/verify/<credential_id>" and line["status"] == 404 and line["method"] == "GET"
    assert set(line) == {"ts", "level", "logger", "message", "request_id", "tenant", "method", "route", "status",
                         "duration_ms"}
    assert "secret-token-value" not in json.dumps(line) and "5b0c7e0a" not in json.dumps(line)


def test_the_signed_in_academy_is_named_in_the_log_line(launcher, client, caplog):
    assert launcher.launch().status_code == 303
    with caplog.at_level(logging.INFO, logger="ibm_lms.requests"):
        client.get("/courses/")
    record = next(r for r in caplog.records if r.name == "ibm_lms.requests" and r.route == "/courses/")
    assert isinstance(record.tenant, int)


def test_metrics_are_for_the_monitoring_host_only(app, client):
    client.get("/healthz")
    scraped = client.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["Content-Type"].count("charset") == 1
    body = scraped.get_data(as_text=True)
    assert 'ibm_lms_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert 'ibm_lms_request_duration_seconds_bucket{le="0.005",route="/healthz"}' in body
    assert 'ibm_lms_outbox_items{outbox="xapi statements",state="pending"} 0.0' in body
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    app.config["METRICS_TOKEN"] = "scrape-token-123"
    assert client.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer scrape-token-123"}).status_code == 200
    assert client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer wrong"}).status_code == 403


def test_invented_methods_share_one_metrics_label_and_the_log_keeps_what_arrived(client, caplog):
    with caplog.at_level(logging.INFO, logger="ibm_lms.requests"):
        for invented in ("FOO", "BAR", "PROPFIND", "X" * 20):
            assert client.open("/healthz", method=invented).status_code == 405
    logged = [r.method for r in caplog.records if r.name == "ibm_lms.requests" and r.status == 405]
    assert logged == ["FOO", "BAR", "PROPFIND", "X" * 20]
    client.delete("/healthz")
    body = client.get("/metrics").get_data(as_text=True)
    assert 'ibm_lms_requests_total{method="OTHER",route="(unmatched)",status="405"} 4.0' in body
    assert 'ibm_lms_requests_total{method="DELETE",route="(unmatched)",status="405"} 1.0' in body
    assert 'method="FOO"' not in body and 'method="PROPFIND"' not in body


def test_readiness_knows_the_schema_this_release_expects(client):
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"
    head = ready.get_json()["schema"]
    db.session.execute(text("UPDATE alembic_version SET version_num = '0014_audit'"))
    db.session.commit()
    try:
        stale = client.get("/readyz")
        assert stale.status_code == 503 and stale.get_json()["fix"] == "ibm-lms db upgrade"
    finally:
        db.session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        db.session.commit()


def test_only_the_trusted_proxy_may_say_who_the_client_is(app, client):
    """Served directly (`serve --certfile`), a client's own X-Forwarded-For must not open the monitoring
    endpoints or choose its address for rate limits; from the proxy it names the client."""
    from ibm_lms.web import TrustedProxyFix

    app.wsgi_app = TrustedProxyFix(app.wsgi_app, app.config["FORWARDED_ALLOW_IPS"])
    spoofed = {"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "https"}
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}, headers=spoofed).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers=spoofed).status_code == 200
    from_proxy = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers=from_proxy).status_code == 403


@pytest.mark.parametrize(("setting", "trusted", "peer", "expected"), [
    ("10.0.0.0/8, 192.0.2.7", None, "10.1.2.3", True),
    ("10.0.0.0/8, 192.0.2.7", None, "192.0.2.8", False),
    ("*", ("*",), "198.51.100.1", True),
    ("127.0.0.1", ("127.0.0.1",), "", True),  # a unix socket: only the host's own proxy reaches it
    ("127.0.0.1", None, "::ffff:127.0.0.1", True),  # served on "::", an IPv4 proxy's address is mapped
    ("::1", None, "::1", True),
])
def test_trusted_proxies_are_addresses_or_networks(setting, trusted, peer, expected):
    from ibm_lms.config import trusted_proxies
    from ibm_lms.web import TrustedProxyFix

    parsed = trusted_proxies(setting)
    assert trusted is None or parsed == trusted
    assert TrustedProxyFix(lambda environ, start: [], parsed).trusts(peer) is expected


def test_a_trusted_proxy_setting_that_is_not_an_address_is_refused_at_start():
    from ibm_lms.config import ConfigurationError, trusted_proxies

    with pytest.raises(ConfigurationError, match=r"IBM_LMS_FORWARDED_ALLOW_IPS .* got 'proxy\.example'"):
        trusted_proxies("127.0.0.1, proxy.example")
    with pytest.raises(ConfigurationError, match=r"as 10\.0\.0\.0/24"):
        trusted_proxies("10.0.0.5/24")  # gunicorn refuses host bits in a network
