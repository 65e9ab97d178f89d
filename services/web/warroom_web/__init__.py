"""The War Room website: pages rendered on the server from the services' public APIs."""
