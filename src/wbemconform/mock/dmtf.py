"""A DMTF CIM schema release for the mock, as users download it.

``load_schema(PATH)`` takes the zip DMTF publishes
(``cim_schema_2.41.0Final-MOFs.zip``) or the folder it unpacks to (holding
``cim_schema_2.41.0.mof``), and returns a :class:`DmtfSchema`: the pragma
file and an index of the one-file-per-class layout, so that the mock's MOF
compiler can compile exactly the classes a MOF needs, with their
dependencies, and nothing else.

A zip is unpacked by pywbem_mock's :class:`~pywbem_mock.DMTFCIMSchema`,
which normally downloads the zip from DMTF: it is given a folder that
already holds the zip (a link to the user's file, named as DMTF names it),
so it never goes to the network. The unpacked schema is kept in a cache
folder (``$XDG_CACHE_HOME/wbemconform/dmtf-schemas``, or
``WBEMCONFORM_SCHEMA_CACHE``) keyed by the zip's path, size and time, and
reused by later runs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from functools import lru_cache
from pathlib import Path

from pywbem_mock import DMTFCIMSchema

from ..mof import MofLoadError
from ..mof.source import CLASS_DECL as _CLASS_DECL

__all__ = ["DmtfSchema", "SchemaError", "load_schema"]

_PRAGMA_FILE = re.compile(r"^cim_schema_(\d+)\.(\d+)\.(\d+)\.mof$", re.I)
_REF_DECL = re.compile(r"\b([A-Za-z_]\w*)\s+REF\b", re.I)
_EMBEDDED = re.compile(r'EmbeddedInstance\s*\(\s*"([A-Za-z_]\w*)"\s*\)', re.I)
_INCLUDE_LINE = re.compile(r'^\s*#\s*pragma\s+include\s*\(\s*"([^"]+)"\s*\)', re.I | re.M)


class SchemaError(MofLoadError):
    """PATH is not a usable DMTF CIM schema: ``PATH: why`` (a MofLoadError
    without a line, so that whoever reports MOF load errors reports it)."""

    def __init__(self, path, message):
        super().__init__(str(path), None, message)


class DmtfSchema:
    """An unpacked DMTF CIM schema release: the folder holding
    ``cim_schema_X.Y.Z.mof`` (its pragma file) and one MOF file per class.

    Knows, without compiling anything, which file declares a class and which
    classes a class depends on (superclass, referenced and embedded classes),
    so that only what a MOF needs is compiled.
    """

    def __init__(self, pragma_file, source=None):
        self.pragma_file = Path(pragma_file)
        self.mof_dir = self.pragma_file.parent
        self.source = str(source or self.mof_dir)
        m = _PRAGMA_FILE.match(self.pragma_file.name)
        if not m:
            raise SchemaError(self.pragma_file, "not a DMTF schema pragma file "
                              "(cim_schema_X.Y.Z.mof)")
        self.version = ".".join(m.groups())
        self._files = {}   # class name (lower) -> path
        self._order = {}   # class name (lower) -> position in the pragma file
        self._deps = {}
        #: every file of the schema read so far: absolute path -> SHA-256
        #: (what the mock's cache checks before it reuses a compiled load)
        self.reads = {}
        text = self._read(self.pragma_file)
        for pos, rel in enumerate(_INCLUDE_LINE.findall(text)):
            path = self.mof_dir / rel.replace("\\", "/")
            if path.stem.lower().startswith("qualifiers"):
                continue
            self._files[path.stem.lower()] = path
            self._order[path.stem.lower()] = pos
        if not self._files:
            raise SchemaError(self.pragma_file, "includes no class files")

    def _read(self, path):
        data = Path(path).read_bytes()
        self.reads[os.path.abspath(path)] = hashlib.sha256(data).hexdigest()
        return data.decode("utf-8", errors="replace")

    def __repr__(self):
        return f"DmtfSchema({self.version!r}, {str(self.mof_dir)!r})"

    def __len__(self):
        return len(self._files)

    def file_of(self, classname):
        """The MOF file declaring a class, or None when the schema has none."""
        return self._files.get(classname.lower())

    def dependencies(self, classname):
        """Classes of the schema a class needs: superclass, references, embedded."""
        lc = classname.lower()
        if lc not in self._deps:
            path = self._files.get(lc)
            deps = []
            if path is not None and path.is_file():
                text = self._read(path)
                m = _CLASS_DECL.search(text)
                if m and m.group(2):
                    deps.append(m.group(2))
                deps.extend(_REF_DECL.findall(text))
                deps.extend(_EMBEDDED.findall(text))
            self._deps[lc] = [d for d in dict.fromkeys(deps)
                              if d.lower() != lc and d.lower() in self._files]
        return self._deps[lc]

    def closure(self, classnames):
        """The given classes of the schema and all they depend on, in the
        order of the schema's pragma file (a class after what it needs)."""
        out, todo = set(), [c.lower() for c in classnames if c.lower() in self._files]
        while todo:
            lc = todo.pop()
            if lc in out:
                continue
            out.add(lc)
            todo.extend(d.lower() for d in self.dependencies(lc))
        return sorted(out, key=self._order.__getitem__)


def _cache_root():
    env = os.environ.get("WBEMCONFORM_SCHEMA_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wbemconform" / "dmtf-schemas"


def _pragma_in(folder):
    found = sorted(p for p in Path(folder).iterdir() if _PRAGMA_FILE.match(p.name))
    return found[-1] if found else None


def _from_zip(path):
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise SchemaError(path, f"not a readable zip file ({exc})") from None
    tops = [n for n in names if "/" not in n.strip("/") and _PRAGMA_FILE.match(n)]
    if not tops:
        raise SchemaError(path, "not a DMTF CIM schema zip (no cim_schema_X.Y.Z.mof "
                          "at its top)")
    version = tuple(int(x) for x in _PRAGMA_FILE.match(tops[0]).groups())
    experimental = "experimental" in path.name.lower()
    stat = path.stat()
    digest = hashlib.sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    root = _cache_root() / f"{'.'.join(map(str, version))}-{digest.hexdigest()[:12]}"
    kind = "Experimental" if experimental else "Final"
    mof_dir = root / f"mof{kind}{'.'.join(map(str, version))}"
    pragma = mof_dir / tops[0]
    if not pragma.is_file():
        # unpacked beside the cache entry, then renamed into place: a reader
        # never sees half a schema, and two runs do not write one folder
        work = root.parent / f"{root.name}.{os.getpid()}.tmp"
        try:
            work.mkdir(parents=True, exist_ok=True)
            # DMTFCIMSchema downloads the zip unless it finds it in its root
            # folder under DMTF's own name: put it there, and it only unpacks
            expected = work / f"cim_schema_{'.'.join(map(str, version))}{kind}-MOFs.zip"
            if not expected.exists():
                try:
                    expected.symlink_to(path.resolve())
                except OSError:
                    shutil.copyfile(path, expected)
            DMTFCIMSchema(version, str(work), use_experimental=experimental)
            try:
                work.rename(root)
            except OSError:  # another run was first
                shutil.rmtree(work, ignore_errors=True)
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            shutil.rmtree(work, ignore_errors=True)
            raise SchemaError(path, f"cannot unpack the schema into {root}: {exc}") from None
        if not pragma.is_file():
            raise SchemaError(path, f"unpacked into {root}, but {pragma.name} is not there")
    return DmtfSchema(pragma, source=path)


@lru_cache(maxsize=4)
def _load(real):
    path = Path(real)
    if not path.exists():
        raise SchemaError(path, "no such file or folder")
    if path.is_dir():
        pragma = _pragma_in(path)
        if pragma is None:
            raise SchemaError(path, "not a DMTF CIM schema folder (no cim_schema_X.Y.Z.mof "
                              "in it)")
        return DmtfSchema(pragma, source=path)
    return _from_zip(path)


def load_schema(path) -> DmtfSchema:
    """The DMTF CIM schema at PATH (its release zip, or the unpacked folder).

    Raises SchemaError (one line, naming PATH) when it is not one."""
    if isinstance(path, DmtfSchema):
        return path
    return _load(os.path.realpath(os.fspath(path)))
