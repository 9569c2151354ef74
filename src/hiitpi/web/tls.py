"""HTTPS mode's certificate: self-signed, made on first run into the data dir, reused after.

A phone's browser gives a page the camera only over HTTPS (a "secure context"), and a home
station has no domain name a public CA could certify, so the station signs its own: the names
it is reached by (its host names, its LAN address, ``localhost`` and ``127.0.0.1``) are in the
certificate's subjectAltName, so after a person accepts it once the browser keeps trusting it.
The key never leaves the data dir (mode 0600). A certificate that no longer names this
machine's LAN address (the router gave it a new one), or that is about to expire, is made anew.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import socket
from pathlib import Path

log = logging.getLogger(__name__)

VALID_DAYS = 825  # the longest validity Apple's browsers accept for a TLS server certificate
RENEW_DAYS = 30  # made anew this close to expiry


def station_names(lan_ip: str) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) this machine answers to on the LAN and locally."""
    dns = ["localhost"]
    for name in (socket.gethostname(), socket.getfqdn()):
        if name and name not in dns:
            dns.append(name)
        short = name.split(".")[0] if name else ""
        local = f"{short}.local" if short and short != "localhost" else ""
        if local and local not in dns:  # mDNS, as a Raspberry Pi announces itself
            dns.append(local)
    ips = ["127.0.0.1", "::1"]
    if lan_ip and lan_ip not in ips:
        ips.append(lan_ip)
    return dns, ips


def ensure_certificate(tls_dir: Path, lan_ip: str) -> tuple[Path, Path]:
    """(cert.pem, key.pem) in ``tls_dir``: the ones there when they still fit, else new ones."""
    cert_path, key_path = tls_dir / "cert.pem", tls_dir / "key.pem"
    dns, ips = station_names(lan_ip)
    if cert_path.exists() and key_path.exists() and _still_fits(cert_path, dns, ips):
        return cert_path, key_path
    _write_self_signed(cert_path, key_path, dns, ips)
    log.info("HTTPS: made a self-signed certificate for %s in %s", ", ".join(dns + ips), tls_dir)
    return cert_path, key_path


def _still_fits(cert_path: Path, dns: list[str], ips: list[str]) -> bool:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, OSError, x509.ExtensionNotFound):
        return False
    have_dns = set(san.get_values_for_type(x509.DNSName))
    have_ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    left = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    return set(dns) <= have_dns and set(ips) <= have_ips and left > dt.timedelta(days=RENEW_DAYS)


def _write_self_signed(cert_path: Path, key_path: Path, dns: list[str], ips: list[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())  # fast on a Pi, accepted by every browser
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"HIIT PI {dns[-1]}")])
    now = dt.datetime.now(dt.UTC)
    alt = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_bytes)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
