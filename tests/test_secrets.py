from __future__ import annotations

import logging

from voicecli.secrets import RedactingFilter, Secret, redact


def test_secret_never_formats() -> None:
    secret = Secret("sk_live_abcdef123456")
    assert "abcdef" not in repr(secret)
    assert "abcdef" not in str(secret)
    assert "abcdef" not in f"{secret} {secret!r}"
    assert secret.reveal() == "sk_live_abcdef123456"


def test_redact_masks_registered_values_and_their_url_forms() -> None:
    Secret("pk+live/with=chars")
    text = "key pk+live/with=chars or pk%2Blive%2Fwith%3Dchars"
    assert redact(text) == "key *** or ***"


def test_redact_masks_credential_query_parameters_and_bearer() -> None:
    url = "wss://h/x?agent_id=a&api_key=unregistered123&token=zzz999"
    assert redact(url) == "wss://h/x?agent_id=a&api_key=***&token=***"
    assert redact("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer ***"


def test_logging_filter_redacts(caplog) -> None:
    Secret("sk_filter_test_987")
    logger = logging.getLogger("voicecli.test.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="voicecli.test.redact"):
        logger.info("connecting with %s", "sk_filter_test_987")
    assert "sk_filter_test_987" not in caplog.text
    assert "connecting with ***" in caplog.text


def test_redact_masks_a_url_userinfo_password() -> None:
    assert redact("wss://bob:s3cret-Pw@example.com/x") == "wss://bob:***@example.com/x"
    assert redact("see http://u:p@h:1 and https://h/x@y") == "see http://u:***@h:1 and https://h/x@y"
    assert redact("ws://user@host/path") == "ws://user@host/path"  # no password: nothing to mask
