"""Starts moto's AWS API emulator (moto[server]) for `npm run e2e`, served over HTTPS.

Harness-side only: nothing here changes the product. Three things differ from a plain `moto_server`:

1. TLS with a throwaway certificate authority generated per run (`<dir>/ca.pem`, handed to
   Terraform through AWS_CA_BUNDLE and SSL_CERT_FILE), so the stacks talk to the emulator the way
   they talk to AWS: over HTTPS.
2. Bucket policy conditions. moto 5.2.1 evaluates only `StringEquals`; a statement with any other
   condition operator is treated as matching, and a statement whose condition does not match as an
   explicit deny. The state bucket's TLS-only statement (Deny s3:* when `aws:SecureTransport` is
   `false`) therefore denies every object request, over HTTPS too. Here the `Bool` operator is
   evaluated, `aws:SecureTransport` comes from the request's scheme, and a statement whose
   condition does not match does not apply, as in AWS: the product's bucket policies stay deployed
   and enforced (plain HTTP is still denied).
3. One request at a time. moto's in-memory backends are not safe under its threaded server: with
   two tenant stacks deploying at once, a CreateAlias of one came back AlreadyExistsException for
   its own new alias (a retried request whose first attempt had been applied). Connections are
   still accepted concurrently; each request is handled under one lock (moto answers in
   milliseconds, so Terraform's parallelism is unaffected in practice).

usage: python3 moto_server.py --port <port> --dir <folder for the CA and server key>
"""
import argparse
import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def write_certificates(folder: str) -> tuple[str, str]:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it; returns (cert, key) paths."""
    now = datetime.datetime.now(datetime.timezone.utc)
    valid = {"not_valid_before": now - datetime.timedelta(minutes=5), "not_valid_after": now + datetime.timedelta(days=1)}
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "spark-platform e2e test CA")])
    ca = (
        x509.CertificateBuilder(subject_name=ca_name, issuer_name=ca_name, public_key=ca_key.public_key(),
                                serial_number=x509.random_serial_number(), **valid)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder(subject_name=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]),
                                issuer_name=ca_name, public_key=key.public_key(),
                                serial_number=x509.random_serial_number(), **valid)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(os.path.join(folder, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    cert_path, key_path = os.path.join(folder, "server.pem"), os.path.join(folder, "server.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def evaluate_bucket_policy_conditions() -> None:
    from moto.iam import policy_conditions
    from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult
    from moto.s3.models import FakeBucket

    def bool_equals(expected, actual) -> bool:
        values = expected if isinstance(expected, list) else [expected]
        return str(actual).lower() in [str(v).lower() for v in values]

    policy_conditions.CONDITION_OPERATIONS.setdefault("Bool", bool_equals)

    statement_permitted = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        # AWS: a statement whose condition does not match does not apply (moto: an explicit deny).
        if self._statement.get("Condition") and incoming_condition_values and not self._check_conditions(incoming_condition_values):
            return PermissionResult.NEUTRAL
        return statement_permitted(self, action, resource, principal, incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted

    def secure_transport() -> str:
        try:
            from flask import request
            return "true" if request.scheme == "https" else "false"
        except RuntimeError:  # outside a request
            return "false"

    def get_permission(self, action, resource):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = self.policy.decode() if isinstance(self.policy, bytes) else self.policy
        return IAMPolicy(policy).is_action_permitted(action, resource, incoming_condition_values={"aws:SecureTransport": secure_transport()})

    FakeBucket.get_permission = get_permission


def serialize_requests() -> None:
    """Handles one request at a time (see 3. above)."""
    import threading
    from moto.server import DomainDispatcherApplication

    lock = threading.Lock()
    handle = DomainDispatcherApplication.__call__

    def locked(self, environ, start_response):  # type: ignore[no-untyped-def]
        with lock:
            return handle(self, environ, start_response)

    DomainDispatcherApplication.__call__ = locked  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    cert, key = write_certificates(args.dir)
    evaluate_bucket_policy_conditions()
    serialize_requests()
    from moto.server import main as moto_main
    sys.stdout.flush()
    moto_main(["--host", "127.0.0.1", "--port", str(args.port), "--ssl-cert", cert, "--ssl-key", key])


if __name__ == "__main__":
    main()
