"""The media types and names AGS and NRPS use on the wire (pure)."""

SCORE = "application/vnd.ims.lis.v1.score+json"
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

ACTIVITY_COMPLETED = "Completed"
GRADING_FULLY_GRADED = "FullyGraded"


def service_url(base: str, suffix: str) -> str:
    """`suffix` added to a service URL's path, its query kept: Moodle's line items carry ?type_id=."""
    path, question, query = base.partition("?")
    return path.rstrip("/") + suffix + (question + query if question else "")
