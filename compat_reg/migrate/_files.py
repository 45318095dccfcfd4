"""Finding, reading and (atomically) writing files, without surprises.

A file that cannot be read, is binary, is not UTF-8 while declaring no
encoding, or is a symlink loop gives a ``FileError`` with a one-line why
and is never written.
"""
from __future__ import annotations

import io
import os
import stat
import tempfile
import tokenize
from typing import Iterator, List, Tuple

_SKIP_DIRS = frozenset(("__pycache__", "node_modules", "site-packages"))


class FileError(Exception):
    pass


def discover(paths: List[str]) -> Iterator[Tuple[str, bool]]:
    """(path, given explicitly) for every file to look at: files given by
    name, and ``*.py`` under directories (hidden directories skipped,
    directory symlinks not followed)."""
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                                 and d not in _SKIP_DIRS)
                for name in sorted(files):
                    if name.endswith(".py"):
                        yield os.path.join(root, name), False
        else:
            yield path, True


def read(path: str) -> bytes:
    """The file's bytes, checked to be decodable Python source."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        if e.errno == 40:  # ELOOP
            raise FileError("symlink loop") from None
        raise FileError("cannot read: %s" % (e.strerror or e)) from None
    if b"\0" in data[:8192]:
        raise FileError("binary file (NUL bytes)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as e:  # undecodable first lines, or a bogus cookie
        if "invalid or missing" in str(e):
            raise FileError("not UTF-8 and declares no encoding") from None
        raise FileError("bad encoding declaration: %s" % e) from None
    try:
        data.decode(encoding)
    except UnicodeDecodeError as e:
        if encoding in ("utf-8", "utf-8-sig"):
            raise FileError("not UTF-8 and declares no encoding (byte %d)"
                            % e.start) from None
        raise FileError("not valid %s as it declares (byte %d)"
                        % (encoding, e.start)) from None
    except LookupError:
        raise FileError("unknown encoding %r" % encoding) from None
    return data


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` (the file a symlink points to, for a symlink) with
    ``data``: a temporary file in the same directory, renamed over it, with
    the original mode."""
    real = os.path.realpath(path)
    mode = stat.S_IMODE(os.stat(real).st_mode)
    fd, tmp = tempfile.mkstemp(prefix=".compat-reg-",
                               dir=os.path.dirname(real) or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
