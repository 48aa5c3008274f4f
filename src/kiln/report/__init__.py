"""Reports of a campaign for people: what the command line and the dashboard show beyond the raw records."""
