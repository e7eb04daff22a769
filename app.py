"""`python app.py`: the web app, the same as `policybot serve` (logging at INFO unless told otherwise)."""

from __future__ import annotations

import logging
import os

from core.privacy import mask_logs
from core.settings import get_settings
from policybot.web import serve


def main() -> None:
    logging.basicConfig(level=os.environ.get("POLICYBOT_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    mask_logs()
    serve(get_settings())


if __name__ == "__main__":
    main()
