"""``mllib tune --scheduler tcp://...``: the Dask back-end its flags describe, and its failures.

A scheduler's address becomes a :class:`mllib.tune.DaskBackend`, with the TLS
credentials of ``--tls-ca-file``, ``--tls-cert`` and ``--tls-key`` (without
them, those of Dask's configuration), the folder of ``--data-dir`` and the
wait of ``--wait-for-workers``. A scheduler that is lost, or has no worker,
ends the command with one line that says how many trials are kept and that
the same command resumes, and exit status 1 (:func:`cluster_failures`).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ..tune import ClusterError, DaskBackend
from .errors import CLIError, RunFailed, usage_errors

FLAGS = {"data_dir": "--data-dir", "wait_for_workers": "--wait-for-workers",
         "tls_ca_file": "--tls-ca-file", "tls_cert": "--tls-cert", "tls_key": "--tls-key"}
WAIT_SECONDS = 60.0


def dask_backend(args) -> DaskBackend:
    """The back-end of ``--scheduler ADDRESS`` and the Dask flags."""
    wait = WAIT_SECONDS if args.wait_for_workers is None else args.wait_for_workers
    security = _security(args)
    with usage_errors():
        return DaskBackend(args.scheduler, security=security, data_dir=args.data_dir,
                           wait_for_workers=wait)


def refuse_dask_flags(args):
    """CLIError if a Dask flag is given without a Dask scheduler."""
    for key, flag in FLAGS.items():
        if getattr(args, key) is not None:
            raise CLIError(f"{flag} is for a Dask scheduler (--scheduler tcp://HOST:PORT or "
                           f"tls://HOST:PORT), not --scheduler {args.scheduler}")


def _security(args):
    """A ``Security`` of the --tls-* files, or None without them (Dask's configuration)."""
    files = {"--tls-ca-file": args.tls_ca_file, "--tls-cert": args.tls_cert,
             "--tls-key": args.tls_key}
    if all(path is None for path in files.values()):
        return None
    if args.tls_ca_file is None or args.tls_cert is None:
        raise CLIError("TLS needs --tls-ca-file and --tls-cert (and --tls-key, unless the key "
                       "is in the --tls-cert file)")
    for flag, path in files.items():
        if path is not None and not Path(path).is_file():
            raise CLIError(f"{flag} {path!r}: no such file")
    from distributed.security import Security

    return Security(tls_ca_file=args.tls_ca_file, tls_client_cert=args.tls_cert,
                    tls_client_key=args.tls_key, require_encryption=True)


@contextmanager
def cluster_failures():
    """A lost scheduler, or none of its workers, as one line and exit status 1."""
    try:
        yield
    except ClusterError as err:
        raise RunFailed(str(err)) from err
