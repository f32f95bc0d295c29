"""Keep client libraries from logging tokens, whatever level the process logs at.

requests-oauthlib logs the whole token request and answer at DEBUG (the Basic
authorization header with the client secret, the access and refresh tokens), and
urllib3 logs request lines, which carry the one-time authorization code on the loopback
redirect. These loggers are held at WARNING once ghostwatch talks to a token endpoint;
what they say at WARNING and above carries no token.
"""

from __future__ import annotations

import logging

TOKEN_TALKERS = ("requests_oauthlib", "oauthlib", "urllib3", "msal")


def silence_token_loggers() -> None:
    for name in TOKEN_TALKERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
