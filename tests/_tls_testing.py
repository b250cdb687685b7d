"""Self-signed TLS credentials for the tests of Dask over tls://, made by the openssl command."""

import shutil
import subprocess

import pytest


def make_credentials(folder, name="mllib test CA"):
    """A CA named ``name``, and a certificate for 127.0.0.1 that it signed, with its key, as
    PEM files in ``folder``: ``{"ca": path, "cert": path, "key": path}``."""
    if shutil.which("openssl") is None:
        pytest.skip("making TLS credentials needs the openssl command")
    folder.mkdir(parents=True, exist_ok=True)
    paths = {part: str(folder / f"{part}.pem") for part in ("ca", "ca_key", "cert", "key", "csr")}
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    for command in (
            ["req", "-x509", *curve, "-keyout", paths["ca_key"], "-out", paths["ca"],
             "-days", "2", "-subj", f"/CN={name}"],
            ["req", *curve, "-keyout", paths["key"], "-out", paths["csr"],
             "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", paths["csr"], "-CA", paths["ca"], "-CAkey", paths["ca_key"],
             "-CAcreateserial", "-out", paths["cert"], "-days", "2",
             "-extfile", str(folder / "san.cnf")]):
        subprocess.run(["openssl", *command], check=True, capture_output=True, timeout=60)
    return {part: paths[part] for part in ("ca", "cert", "key")}


def cluster_security(credentials):
    """The Security of a scheduler and workers that use ``credentials`` for everything."""
    from distributed.security import Security

    pem = dict(tls_ca_file=credentials["ca"], require_encryption=True)
    for role in ("client", "scheduler", "worker"):
        pem[f"tls_{role}_cert"], pem[f"tls_{role}_key"] = credentials["cert"], credentials["key"]
    return Security(**pem)


def client_security(credentials):
    from distributed.security import Security

    return Security(tls_ca_file=credentials["ca"], tls_client_cert=credentials["cert"],
                    tls_client_key=credentials["key"], require_encryption=True)
