"""The WSGI entry point for gunicorn: `gunicorn ibm_lms.wsgi:app`."""

from werkzeug.middleware.proxy_fix import ProxyFix

from ibm_lms import create_app, observability

app = create_app()
observability.configure_logging(app.config["LOG_FORMAT"])
# Behind a TLS-terminating proxy: trust one hop's X-Forwarded-For/Proto/Host.
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
