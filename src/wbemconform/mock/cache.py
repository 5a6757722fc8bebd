"""A cache of compiled mock repositories, so that loading unchanged MOF costs
(almost) nothing.

Compiling MOF into the mock is most of what opening a large target costs (a
profile with 10,000 elements: seconds). :func:`wbemconform.mock.connect`
keeps what a load produced -- the repository, pywbem_mock's provider
registry (its CIM_Namespace provider), what the MOF compiler knows (load
warnings, load findings, declarations, the files it read) -- in one file per
load, and a later ``connect()`` with the same input takes it from there
instead of compiling again. Python providers are never kept: the broker
creates them afresh, on first use, as after a compilation.

Where: ``$WBEMCONFORM_CACHE`` (a folder), else
``$XDG_CACHE_HOME/wbemconform/mock-cache``, else
``~/.cache/wbemconform/mock-cache``. ``WBEMCONFORM_CACHE=off`` (or ``0``,
``no``, ``false``, ``none``, ``disabled``) turns the cache off, as does
``connect(cache=False)``. ``WBEMCONFORM_CACHE_MAX_MB`` bounds its size
(default 256 MB); the least recently used entries go first.

The key (SHA-256) covers everything a load depends on that is known before
it runs: the cache format, the wbemconform and pywbem versions, the Python
version, the source of the wbemconform modules that compile and check MOF,
the MOF files given (path as given, real path, content), the profiles
folder, the DMTF schema (its folder; for a zip, its path, size and time),
the dialect, the quirks, the accept-remote flag, the Python providers'
names and classes, the connection's other options, and the loader's limits.
What is only known after the load -- every file it read, including files
pulled in by ``#pragma include`` and the schema files, and the include
candidates that were *not* there -- is kept in the entry and checked, by
content, before the entry is used: any difference is a miss.

An entry is written to a temporary file in the cache folder and renamed into
place, so that concurrent runs never see half an entry; its payload carries
its SHA-256, and an entry that cannot be read, does not match, or does not
unpickle is a miss (and is removed), never an error. Entries are only read
from a folder owned by the user and not writable by others (a pickle is
code).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import secrets
import stat
import sys
import time
import zlib
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pywbem

__all__ = ["MockCache", "cache_folder", "open_cache", "project_versions", "gc_paused",
           "DISABLED_VALUES", "DEFAULT_MAX_BYTES"]

#: Bumped whenever what an entry holds changes shape.
FORMAT = 1
_MAGIC = b"wbemconform mock cache\n"
_SUFFIX = ".mockcache"

#: WBEMCONFORM_CACHE values that turn the cache off.
DISABLED_VALUES = ("off", "0", "no", "false", "none", "disabled")

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
#: Temporary files older than this are left-overs of a run that died.
_STALE_TMP_SECONDS = 3600

#: The modules whose code decides what a load produces (glob patterns under
#: the package folder: a module added to these packages is covered).
_SOURCE_MODULES = ("mof/*.py", "namespaces.py", "paths.py", "mock/*.py", "mock/broker/*.py")


@contextmanager
def gc_paused():
    """Python's cyclic garbage collector off for a block: building (or
    unpickling) tens of thousands of CIM objects otherwise triggers a full
    collection after every few thousand, each walking all of them."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@lru_cache(maxsize=1)
def project_versions():
    """The versions a cache key names (tests replace this function)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        mine = version("wbemconform")
    except PackageNotFoundError:
        mine = "unknown"
    return {"wbemconform": mine, "pywbem": pywbem.__version__,
            "python": f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}"}


@lru_cache(maxsize=1)
def _source_digest():
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for pattern in _SOURCE_MODULES:
        paths = sorted(root.glob(pattern)) or [root / pattern]
        for path in paths:
            rel = path.relative_to(root).as_posix()
            try:
                digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
            except OSError:
                digest.update(rel.encode() + b"\0missing\0")
    return digest.hexdigest()


def _file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def cache_folder(environ=None):
    """The cache folder, or None when the cache is turned off."""
    env = os.environ if environ is None else environ
    value = env.get("WBEMCONFORM_CACHE", "").strip()
    if value.lower() in DISABLED_VALUES:
        return None
    if value:
        return Path(value).expanduser()
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wbemconform" / "mock-cache"


def _max_bytes():
    value = os.environ.get("WBEMCONFORM_CACHE_MAX_MB", "").strip()
    try:
        return max(0, int(float(value) * 1024 * 1024)) if value else DEFAULT_MAX_BYTES
    except ValueError:
        return DEFAULT_MAX_BYTES


def open_cache(cache=None):
    """The cache ``connect(cache=...)`` asks for: None (the environment
    decides), False (none), True (the default folder even if the
    environment turns it off), or a folder."""
    if cache is False:
        return None
    if cache is None:
        folder = cache_folder()
    elif cache is True:
        folder = cache_folder({k: v for k, v in os.environ.items()
                               if k != "WBEMCONFORM_CACHE"})
    else:
        folder = Path(os.fspath(cache)).expanduser()
    return MockCache(folder, _max_bytes()) if folder is not None else None


def _is_private(st):
    """Owned by this user and writable by nobody else (POSIX); elsewhere yes."""
    if not hasattr(os, "getuid"):
        return True
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class MockCache:
    """One cache folder (see the module docstring)."""

    def __init__(self, folder, max_bytes=DEFAULT_MAX_BYTES):
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    def __repr__(self):
        return f"MockCache({str(self.folder)!r})"

    # -- keys ------------------------------------------------------------------

    def key(self, files, profiles, schema, options):
        """The key of a load, or None when the input cannot be keyed (a MOF
        file that cannot be read: the load itself will say why).

        files: the MOF files as given; profiles: the mock's MOF folder;
        schema: the DmtfSchema or None; options: the rest, as JSON-able data."""
        known = {}
        parts = {"format": FORMAT, "versions": project_versions(), "source": _source_digest(),
                 "profiles": os.path.realpath(profiles), "options": options}
        listed = []
        for f in files:
            try:
                digest = _file_digest(f)
            except OSError:
                return None
            known[os.path.abspath(f)] = digest
            listed.append([str(f), os.path.realpath(f), digest])
        parts["files"] = listed
        if schema is not None:
            source = os.path.realpath(schema.source)
            ident = [os.path.realpath(schema.mof_dir), source]
            if os.path.isfile(source):
                st = os.stat(source)
                ident += [st.st_size, st.st_mtime_ns]
            parts["schema"] = ident
        text = json.dumps(parts, sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest(), known

    # -- reading -----------------------------------------------------------------

    def _entry(self, key):
        return self.folder / f"{key}{_SUFFIX}"

    def _folder_ok(self):
        try:
            return _is_private(os.stat(self.folder))
        except OSError:
            return False

    def load(self, key, known=None):
        """The snapshot stored under ``key`` if every file it was built from
        is as it was, else None (a stale or broken entry is removed)."""
        path = self._entry(key)
        try:
            with open(path, "rb") as f:
                if not (_is_private(os.fstat(f.fileno())) and self._folder_ok()):
                    return None
                data = f.read()
        except OSError:
            return None
        try:
            header, payload = _split(data)
            if header.get("key") != key or header.get("format") != FORMAT:
                raise ValueError("not this entry")
            if not _unchanged(header["manifest"], known or {}):
                self._discard(path)
                return None
            if hashlib.sha256(payload).hexdigest() != header["payload"]:
                raise ValueError("payload does not match its digest")
            with gc_paused():
                snapshot = pickle.loads(zlib.decompress(payload))
        except Exception:  # noqa: BLE001 -- a broken entry is a miss, whatever broke
            self._discard(path)
            return None
        try:
            os.utime(path)  # recently used: evicted last
        except OSError:
            pass
        return snapshot

    # -- writing -----------------------------------------------------------------

    def store(self, key, manifest, snapshot):
        """Keep a snapshot under ``key``; manifest: {absolute path: SHA-256 or
        None}. Returns whether it was stored (a cache that cannot be written
        is no error)."""
        try:
            payload = zlib.compress(pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL), 1)
        except Exception:  # noqa: BLE001 -- something unpicklable: do not cache it
            return False
        header = json.dumps({"format": FORMAT, "key": key, "created": time.time(),
                             "manifest": sorted(manifest.items()),
                             "payload": hashlib.sha256(payload).hexdigest()}).encode()
        tmp = self.folder / f".{key}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self._folder_ok():
                return False
            with open(tmp, "xb") as f:
                f.write(_MAGIC + len(header).to_bytes(8, "big") + header + payload)
            os.replace(tmp, self._entry(key))
        except OSError:
            self._discard(tmp)
            return False
        self.evict()
        return True

    def evict(self):
        """Remove the least recently used entries beyond the size bound, and
        temporary files a dead run left behind."""
        entries, total, now = [], 0, time.time()
        try:
            with os.scandir(self.folder) as it:
                for item in it:
                    try:
                        st = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if item.name.endswith(".tmp"):
                        if now - st.st_mtime > _STALE_TMP_SECONDS:
                            self._discard(item.path)
                    elif item.name.endswith(_SUFFIX):
                        entries.append((st.st_mtime, st.st_size, item.path))
                        total += st.st_size
        except OSError:
            return
        entries.sort()
        for _mtime, size, path in entries:
            if total <= self.max_bytes:
                break
            self._discard(path)
            total -= size

    def clear(self):
        for path in self.folder.glob(f"*{_SUFFIX}"):
            self._discard(path)

    @staticmethod
    def _discard(path):
        try:
            os.unlink(path)
        except OSError:
            pass


def _split(data):
    if not data.startswith(_MAGIC):
        raise ValueError("not a wbemconform mock cache entry")
    start = len(_MAGIC) + 8
    size = int.from_bytes(data[len(_MAGIC):start], "big")
    header = json.loads(data[start:start + size].decode())
    return header, data[start + size:]


def _unchanged(manifest, known):
    """Whether every file an entry was built from still has the content it
    had (and every include candidate that was missing still is)."""
    for path, digest in manifest:
        if digest is None:
            if os.path.isfile(path):
                return False
            continue
        now = known.get(path)
        if now is None:
            try:
                now = _file_digest(path)
            except OSError:
                return False
        if now != digest:
            return False
    return True
