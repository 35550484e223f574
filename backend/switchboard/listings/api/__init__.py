"""The listings REST API (mounted at /api/listings/)."""
