"""REST API: thin routes over the query service."""
