"""WS-Management authentication beyond Basic: NTLM, Negotiate, Kerberos and
CredSSP, with WinRM's HTTP message encryption, through pyspnego's public API.

Basic is the transport's own (:class:`.transport.Transport` adds the header).
The other schemes (``--wbem-auth ntlm|negotiate|kerberos|credssp``) are an
HTTP handshake (RFC 4559: ``Authorization: Negotiate <token>`` answered by a
401 with ``WWW-Authenticate: Negotiate <token>``, until the security context
is complete) followed, over plain HTTP, by every message encrypted as
MS-WSMV 2.2.9.1 describes: a ``multipart/encrypted`` body whose second part
is the length of the signature header (4 bytes, little endian), the header
and the sealed envelope. pyspnego (``spnego.client``, ``step``,
``wrap_winrm``/``unwrap_winrm``) does the cryptography; this module only
frames it. Over HTTPS the messages travel as they are, authenticated by the
handshake on the same connection.

The password stays a :class:`~wbemconform.options.Secret` until the context
is made, and no header or token is ever put in a message.
"""

from __future__ import annotations

import base64
import re
import struct

import pywbem

__all__ = ["SpnegoAuth", "SCHEMES", "ENCRYPTED_CONTENT_TYPE"]

#: --wbem-auth -> (pyspnego protocol, HTTP auth scheme, encryption protocol name)
SCHEMES = {
    "ntlm": ("ntlm", "Negotiate", "application/HTTP-SPNEGO-session-encrypted"),
    "negotiate": ("negotiate", "Negotiate", "application/HTTP-SPNEGO-session-encrypted"),
    "kerberos": ("kerberos", "Kerberos", "application/HTTP-Kerberos-session-encrypted"),
    "credssp": ("credssp", "CredSSP", "application/HTTP-CredSSP-session-encrypted"),
}
_BOUNDARY = "Encrypted Boundary"
ENCRYPTED_CONTENT_TYPE = 'multipart/encrypted;protocol="{}";boundary="' + _BOUNDARY + '"'
_SOAP = "application/soap+xml;charset=UTF-8"
_MAX_LEGS = 8  # handshake round trips before giving up


class SpnegoAuth:
    """One security context for one connection (see the module docstring)."""

    def __init__(self, scheme, user, password, hostname, *, encrypt):
        import spnego  # imported when used: Basic targets need none of it

        self.scheme = scheme
        protocol, self.http_scheme, self.encryption_protocol = SCHEMES[scheme]
        self.encrypt = encrypt
        self._spnego = spnego
        self._args = dict(username=user, hostname=hostname, service="HTTP",
                          protocol=protocol)
        self._password = password
        self.context = None

    def __repr__(self):
        return f"SpnegoAuth({self.scheme!r}, encrypt={self.encrypt})"

    @property
    def complete(self):
        return self.context is not None and self.context.complete

    def _token_of(self, resp):
        header = resp.headers.get("WWW-Authenticate", "")
        match = re.search(rf"\b{self.http_scheme}\s+([A-Za-z0-9+/=]+)", header, re.I)
        return base64.b64decode(match.group(1)) if match else None

    def handshake(self, send, operation):
        """Authenticate: ``send(body, headers)`` posts and returns the response
        (the body already read). Raises pywbem.AuthError when refused."""
        password = self._password.reveal() if self._password is not None else None
        try:
            self.context = self._spnego.client(password=password, **self._args)
            token = self.context.step()
        except Exception as exc:  # noqa: BLE001 -- pyspnego's own errors, shown in one line
            raise pywbem.AuthError(f"{operation}: {self.scheme} authentication could not "
                                   f"start: {type(exc).__name__}: {exc}") from None
        finally:
            password = None
        for _ in range(_MAX_LEGS):
            headers = {"Authorization": f"{self.http_scheme} "
                                        f"{base64.b64encode(token).decode('ascii')}",
                       "Content-Type": _SOAP}
            resp = send(b"", headers)
            in_token = self._token_of(resp)
            if resp.status_code == 401 and in_token is None:
                raise pywbem.AuthError(f"{operation}: the server refused the {self.scheme} "
                                       "credentials (HTTP 401)")
            if in_token is None:
                if self.context.complete:
                    return
                raise pywbem.AuthError(f"{operation}: the server answered HTTP "
                                       f"{resp.status_code} to the {self.scheme} handshake "
                                       "without a token")
            try:
                token = self.context.step(in_token)
            except Exception as exc:  # noqa: BLE001
                raise pywbem.AuthError(f"{operation}: {self.scheme} authentication failed: "
                                       f"{type(exc).__name__}: {exc}") from None
            if self.context.complete and not token:
                return
            if token is None:
                return
        raise pywbem.AuthError(f"{operation}: the {self.scheme} handshake did not end")

    def wrap(self, body):
        """``(body, content type)`` to send: sealed over HTTP, as it is over HTTPS."""
        if not self.encrypt:
            return body, _SOAP
        result = self.context.wrap_winrm(body)
        payload = (struct.pack("<i", len(result.header)) + result.header + result.data)
        protocol = self.encryption_protocol
        text = (f"--{_BOUNDARY}\r\n\tContent-Type: {protocol}\r\n"
                f"\tOriginalContent: type={_SOAP};Length={len(body)}\r\n"
                f"--{_BOUNDARY}\r\n\tContent-Type: application/octet-stream\r\n").encode()
        return (text + payload + f"--{_BOUNDARY}--\r\n".encode(),
                ENCRYPTED_CONTENT_TYPE.format(protocol))

    def unwrap(self, resp, operation):
        """The envelope of an answer (decrypted when it came encrypted). An
        answer that cannot be read or decrypted is a one-line ParseError, and
        the context is dropped (its RC4 stream is out of step): the next
        message authenticates again."""
        ctype = resp.headers.get("Content-Type", "")
        if not ctype.lower().startswith("multipart/encrypted"):
            return resp.content
        try:
            return self._open(resp.content, operation)
        except pywbem.ParseError:
            self.context = None
            raise

    def _open(self, data, operation):
        marker = b"Content-Type: application/octet-stream\r\n"
        start = data.find(marker)
        end = data.rfind(f"--{_BOUNDARY}--".encode())
        length = re.search(rb"OriginalContent:[^\r\n]*?Length=(\d{1,9})", data[:max(start, 0)])
        if start < 0 or end < start or length is None:
            raise pywbem.ParseError(f"{operation}: an encrypted answer in no known framing")
        blob = data[start + len(marker):end]
        if len(blob) < 4:
            raise pywbem.ParseError(f"{operation}: an encrypted answer too short to read")
        size = struct.unpack("<i", blob[:4])[0]
        if not 0 < size <= len(blob) - 4:
            raise pywbem.ParseError(f"{operation}: an encrypted answer with a bad header length")
        try:
            envelope = self.context.unwrap_winrm(blob[4:4 + size], blob[4 + size:])
        except Exception as exc:  # noqa: BLE001
            raise pywbem.ParseError(f"{operation}: the encrypted answer could not be "
                                    f"decrypted: {type(exc).__name__}: "
                                    f"{' '.join(str(exc).split())[:200]}") from None
        if len(envelope) != int(length.group(1)):
            raise pywbem.ParseError(f"{operation}: the decrypted answer is {len(envelope)} "
                                    f"octets, not the {int(length.group(1))} announced")
        return envelope
