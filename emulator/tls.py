"""HTTPS for the emulator: a self-signed certificate for 127.0.0.1 and localhost, made at start.

Real Salesforce speaks https only and third-party clients force the scheme, so `--tls` serves
HTTPS with a fresh key and certificate the certificate written to a PEM file (the key stays in
memory). Clients trust it as a CA bundle: `REQUESTS_CA_BUNDLE=PATH` or `session.verify = PATH`.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOSTS = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")
VALID_DAYS = 30


def self_signed_pem(now: datetime.datetime | None = None) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) of a self-signed CA-capable server certificate."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Salesforce org emulator")])
    alt_names = [x509.DNSName(h) for h in HOSTS]
    alt_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ADDRESSES]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        # A self-signed leaf used as its own trust anchor: OpenSSL 3 wants it marked as a CA
        # with keyCertSign, else verification fails with "invalid CA certificate".
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def make_tls(cert_path: str | os.PathLike) -> ssl.SSLContext:
    """Make a key and certificate, write the certificate (PEM) to cert_path for clients to
    trust, and return a server TLS context. The key never leaves memory except for a
    private temporary file that is deleted once loaded."""
    cert_path = Path(cert_path)
    cert_pem, key_pem = self_signed_pem()
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.write_bytes(cert_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory() as tmp:
        key_path = Path(tmp) / "key.pem"
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key_pem)
        ctx.load_cert_chain(str(cert_path), str(key_path))
    return ctx
