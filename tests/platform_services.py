"""The test platform's services: Moodle's (ibm_lms.demo.moodle_services), with faults a test can switch on.

Faults, each consumed by one service request in order: "ok" for none, "down", "slow", "late" (done, but
answered after 2 s: an answer lost to the tool's timeout), "400", "401", "429", "500", "malformed";
`down` makes every service request fail until switched off, `slow_seconds` delays each.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response

from ibm_lms.demo.moodle_services import MoodleServices


@dataclass
class Services(MoodleServices):
    faults: list = field(default_factory=list)
    down: bool = False
    slow_seconds: float = 0.0

    def serve(self, request: Request, handler) -> Response:
        fault = self.faults.pop(0) if self.faults else None
        if self.down or fault == "down":
            return Response("<html><body>Service Unavailable</body></html>", status=503, mimetype="text/html")
        if fault == "slow" or self.slow_seconds:
            time.sleep(self.slow_seconds or 30)
        if fault in ("400", "401", "429", "500"):
            headers = {"Retry-After": "120"} if fault == "429" else {}
            return Response(json.dumps({"error": f"fault {fault}"}), status=int(fault), headers=headers,
                            mimetype="application/json")
        if fault == "malformed":
            return Response("{not json", status=200, mimetype="application/json")
        answer = super().serve(request, handler)
        if fault == "late":
            time.sleep(2)
        return answer
