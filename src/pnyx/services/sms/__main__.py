"""`python -m pnyx.services.sms`: run the secret management service (PNYX_SMS_* / PNYX_CHAIN_*)."""

from __future__ import annotations

import uvicorn

from pnyx.services.sms.app import create_sms_app
from pnyx.services.sms.config import SmsSettings


def main() -> None:
    settings = SmsSettings.from_env()
    uvicorn.run(
        create_sms_app(settings), host=settings.host, port=settings.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
