"""One router per domain, mounted under /v1 by ``fitroom.api.app``."""
