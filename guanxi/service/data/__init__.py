"""Reference data the service loads into a workspace's rows (which administrators then edit)."""
