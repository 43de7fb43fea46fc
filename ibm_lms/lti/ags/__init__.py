"""Assignment and Grade Services: scores written to an outbox with the result they report, delivered by a worker."""
