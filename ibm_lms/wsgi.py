"""The WSGI entry point for gunicorn: `gunicorn ibm_lms.wsgi:app`."""

import sys

from werkzeug.middleware.proxy_fix import ProxyFix

from ibm_lms import create_app, observability

# A worker's threads share one interpreter lock. A thread that waited on the database or a socket gets the lock back
# only when the running thread gives it up, by default after 5 ms of pure Python: an autosave (a few ms of work
# and half a dozen waits) landing beside a quiz submission would wait 5 ms at each of its waits. At 1 ms a short
# request interleaves with a long one, at the cost of a few more switches while both run.
SWITCH_INTERVAL_SECONDS = 0.001
sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)

app = create_app()
observability.configure_logging(app.config["LOG_FORMAT"])
# Behind a TLS-terminating proxy: trust one hop's X-Forwarded-For/Proto/Host.
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
