"""Finding, reading and (atomically) writing files, without surprises.

* Only regular files are opened (a FIFO, socket or device named ``*.py`` is
  skipped and said so: opening one could block forever), opened without
  blocking and checked on the open descriptor.
* A directory walk does not follow a symlink out of the tree it was asked
  about; a symlinked directory given as an argument is walked.
* A directory that cannot be read is an error, not a silent skip.
* A file that cannot be read, is binary, or is not UTF-8 while declaring no
  encoding gives a ``FileError`` with a one-line why and is never written.
* Writing replaces the file in one rename, from an unnamed temporary file
  where the system has them (Linux ``O_TMPFILE``), keeping owner, group and
  mode; nothing is left behind when the write fails or is interrupted. A
  reader, or a kill of this process at any point, sees the old file or the
  new one. (No ``fsync``: like pyupgrade and tf_upgrade_v2, durability
  across a power cut is left to the file system.)
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from typing import Iterator, List, Tuple

from compat_reg.migrate._source import detect_encoding

_SKIP_DIRS = frozenset(("__pycache__", "node_modules", "site-packages"))
SUFFIXES = (".py", ".ipynb")
TEMP_PREFIX = ".compat-reg-"


class FileError(Exception):
    pass


class Skip(Exception):
    """Not a file this tool reads (a FIFO, a symlink out of the tree)."""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def discover(paths: List[str]) -> Iterator[Tuple[str, str]]:
    """(path, problem) for every file to look at: files given by name, and
    ``*.py``/``*.ipynb`` under directories (hidden directories skipped).
    ``problem`` is "" or why the path is only reported: an unreadable
    directory ("error: ..."), a symlink out of the tree ("skip: ...")."""
    for path in paths:
        if not os.path.isdir(path):
            yield path, ""
            continue
        root = os.path.realpath(path)
        errors: List[OSError] = []
        for directory, dirs, files in os.walk(path, onerror=errors.append):
            while errors:
                e = errors.pop()
                yield e.filename or directory, "error: cannot read directory: %s" % (
                    e.strerror or e)
            keep = []
            for name in sorted(dirs):
                full = os.path.join(directory, name)
                if name.startswith(".") or name in _SKIP_DIRS:
                    continue
                if os.path.islink(full):
                    if _inside(os.path.realpath(full), root):
                        continue  # walked where it really is
                    yield full, "skip: symlink to a directory outside the tree"
                    continue
                keep.append(name)
            dirs[:] = keep
            for name in sorted(files):
                if not name.endswith(SUFFIXES) or name.startswith(TEMP_PREFIX):
                    continue
                full = os.path.join(directory, name)
                if os.path.islink(full) and not _inside(os.path.realpath(full), root):
                    yield full, "skip: symlink to a file outside the tree"
                    continue
                yield full, ""
        while errors:
            e = errors.pop()
            yield e.filename or path, "error: cannot read directory: %s" % (e.strerror or e)


def read(path: str) -> bytes:
    """The bytes of a regular file. Raises ``Skip`` for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise FileError("symlink loop") from None
        if e.errno == errno.EISDIR:
            raise FileError("is a directory") from None
        raise FileError("cannot read: %s" % (e.strerror or e)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise FileError("is a directory")
        if not stat.S_ISREG(mode):
            raise Skip("not a regular file")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise FileError("cannot read: %s" % (e.strerror or e)) from None
    finally:
        os.close(fd)


def check_python(data: bytes) -> None:
    """Raise ``FileError`` unless ``data`` decodes as Python source."""
    if b"\0" in data[:8192]:
        raise FileError("binary file (NUL bytes)")
    try:
        encoding = detect_encoding(data)
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


def _unnamed(directory: str):
    """An unnamed file in ``directory`` (nothing to clean up if killed)."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(directory, flag | os.O_WRONLY, 0o600)
    except OSError:
        return None


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` (the file a symlink points to, for a symlink) with
    ``data`` in one rename, keeping its owner, group and mode."""
    real = os.path.realpath(path)
    st = os.stat(real)
    directory = os.path.dirname(real) or "."
    fd = _unnamed(directory)
    tmp = None
    try:
        if fd is None:
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=directory)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        try:
            os.fchown(fd, st.st_uid, st.st_gid)
        except OSError:
            pass  # not ours to give away: we can only write our own files
        os.fchmod(fd, stat.S_IMODE(st.st_mode))
        if tmp is None:
            tmp = os.path.join(directory, "%s%d-%s" % (
                TEMP_PREFIX, os.getpid(), os.urandom(4).hex()))
            # linkat(..., AT_SYMLINK_FOLLOW): CPython uses it (not link())
            # only when given a dir_fd; the path is absolute, so it is unused
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.link("/proc/self/fd/%d" % fd, tmp, src_dir_fd=dir_fd,
                        follow_symlinks=True)
            finally:
                os.close(dir_fd)
        os.replace(tmp, real)
        tmp = None
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
