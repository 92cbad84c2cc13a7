"""What the cabinet's publisher and the city's subscriber share about a broker connection
(no I/O): the TLS context from a CA file, and one clear sentence for a connection that
failed, instead of the MQTT client's exception text.

A broker that refuses the credentials, a certificate that the CA did not sign, a broker
that is not there: each says what is wrong and where to look, never a traceback.
"""

from __future__ import annotations

import re
import ssl


def tls_context(ca: str | None) -> ssl.SSLContext:
    """A client TLS context that trusts `ca` (a PEM file; None: the system's CAs) and checks
    the broker's host name; ValueError names a CA file that is not a certificate."""
    try:
        return ssl.create_default_context(cafile=ca)
    except (OSError, ssl.SSLError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise ValueError(f"{ca}: not a readable PEM CA certificate ({reason})") from None


def explain(error: BaseException, broker: str, ca: str | None = None) -> str:
    """One sentence for a failed connection to `broker`."""
    text = str(error) or type(error).__name__
    low = text.lower()
    if "certificate verify failed" in low or "certificate_verify_failed" in low:
        who = f"the CA {ca}" if ca else "the system's CAs"
        detail = re.sub(r"\s*\(_ssl\.c:\d+\)", "", text.split("verify failed:")[-1])
        detail = detail.strip(" )]") or text
        return (f"{broker}: TLS: the broker's certificate is not trusted by {who} "
                f"({detail}); check tls_ca and the broker's certfile")
    if "wrong version number" in low or "ssl" in low and "handshake" in low:
        return f"{broker}: TLS handshake failed ({text}); is the port a TLS listener?"
    if "not authori" in low or "bad user name or password" in low:
        return (f"{broker}: the broker refused the credentials ({text}); check the "
                "credentials file (username:password) and the broker's password_file")
    if "refused" in low or "timed out" in low or "unreachable" in low or "errno" in low:
        return f"{broker}: cannot connect ({text}); is the broker running?"
    return f"{broker}: {text}"
