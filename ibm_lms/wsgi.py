"""The WSGI entry point for gunicorn: `gunicorn ibm_lms.wsgi:app`."""

from ibm_lms import create_app, observability
from ibm_lms.web import TrustedProxyFix

app = create_app()
observability.configure_logging(app.config["LOG_FORMAT"])
app.wsgi_app = TrustedProxyFix(app.wsgi_app, app.config["FORWARDED_ALLOW_IPS"])
