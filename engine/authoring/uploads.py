"""Uploaded bytes to pathway files: single .bpmn/.dmn/form files, or a zip of the library.

Everything here distrusts the upload. A zip is read entry by entry without extracting anything to disk; its
declared sizes are checked before reading and the bytes actually read are counted (a zip bomb lies about
both); entries with absolute paths, `..`, backslashes, links or encryption are refused, as are nested
archives. Only file names (never folders) reach a draft, so no path from an upload is ever used.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass, field
from io import BytesIO

from ..errors import Finding
from ..pathway_files import MAX_FILE_BYTES
from .review import MAX_FILES, MAX_TOTAL_BYTES

MAX_UPLOAD_BYTES = 4_000_000  # the web app's request limit; a zip must fit in one request
MAX_ENTRIES = 500
MAX_RATIO = 200  # uncompressed / compressed: library files compress ~10x; a bomb thousands of times
_IGNORED = ("__MACOSX/", ".DS_Store", "Thumbs.db")
_PATHWAY_SUFFIXES = (".bpmn", ".dmn", ".schema.json", ".ui.json")


@dataclass
class Upload:
    files: dict[str, str] = field(default_factory=dict)
    refused: list[Finding] = field(default_factory=list)


def read_uploads(items: list[tuple[str, bytes]]) -> Upload:
    """Uploaded (filename, bytes) pairs as pathway files. A zip contributes its pathway files."""
    out = Upload()
    for filename, data in items:
        base = _base_name(filename)
        if base is None:
            out.refused.append(Finding(filename[:120] or "(upload)", None, "not a plain file name"))
        elif len(data) > MAX_UPLOAD_BYTES:
            out.refused.append(Finding(base, None, f"upload is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB"))
        elif base.lower().endswith(".zip") or data[:4] == b"PK\x03\x04":
            _read_zip(base, data, out)
        else:
            _add(out, base, data, base)
    if not out.refused and not out.files:
        out.refused.append(
            Finding("(upload)", None, "no pathway files (.bpmn, .dmn, .schema.json, .ui.json) in the upload")
        )
    return out


def _base_name(name: str) -> str | None:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name if name and name not in (".", "..") else None


def _add(out: Upload, name: str, data: bytes, where: str) -> None:
    if not name.endswith(_PATHWAY_SUFFIXES):
        out.refused.append(Finding(where, None, "not a pathway file (.bpmn, .dmn, .schema.json, .ui.json)"))
        return
    if len(data) > MAX_FILE_BYTES:
        out.refused.append(Finding(where, None, f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB"))
        return
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a byte-order mark some editors write
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        out.refused.append(Finding(where, None, "file is not UTF-8 text"))
        return
    if name in out.files and out.files[name] != text:
        out.refused.append(Finding(where, None, f"two different files named {name} in the upload"))
        return
    out.files[name] = text


def _read_zip(name: str, data: bytes, out: Upload) -> None:
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        out.refused.append(Finding(name, None, "not a readable zip file"))
        return
    if len(infos) > MAX_ENTRIES:
        out.refused.append(Finding(name, None, f"{len(infos)} entries: a library zip holds at most {MAX_ENTRIES}"))
        return
    declared = sum(i.file_size for i in infos)
    if declared > MAX_TOTAL_BYTES or declared > MAX_RATIO * max(len(data), 1) + 1_000_000:
        out.refused.append(Finding(name, None, "the zip unpacks to far more than it holds (a zip bomb?): refused"))
        return
    budget = MAX_TOTAL_BYTES
    for info in infos:
        where = f"{name}: {info.filename[:200]}"
        problem = _entry_problem(info)
        if problem:
            out.refused.append(Finding(where, None, problem))
            continue
        if info.is_dir() or info.filename.startswith(_IGNORED) or info.filename.rsplit("/", 1)[-1] in _IGNORED:
            continue
        try:
            content = _read_capped(archive, info, min(MAX_FILE_BYTES, budget) + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, ValueError, OSError):
            out.refused.append(Finding(where, None, "entry cannot be read (damaged or compressed in an unknown way)"))
            continue
        budget -= len(content)
        if budget < 0:
            out.refused.append(
                Finding(name, None, f"the zip unpacks to more than {MAX_TOTAL_BYTES // 1_000_000} MB: refused")
            )
            return
        base = info.filename.rsplit("/", 1)[-1]
        if base.lower().endswith((".zip", ".jar", ".gz", ".tar", ".7z")):
            out.refused.append(Finding(where, None, "archives inside the zip are not opened"))
            continue
        _add(out, base, content, where)
    if len(out.files) > MAX_FILES:
        out.refused.append(Finding(name, None, f"more than {MAX_FILES} pathway files"))


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    path = info.filename
    parts = path.replace("\\", "/").split("/")
    if "\\" in path or path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return "entry path is absolute or uses backslashes: refused"
    if ".." in parts:
        return "entry path climbs out of the archive (..): refused"
    if len(parts) > 4:
        return "entry is nested too deeply: a library zip has workflows/ and forms/ folders"
    if info.flag_bits & 0x1:
        return "entry is encrypted"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "entry is a symbolic link"
    return None


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """At most `cap` bytes of an entry, whatever its header claims."""
    chunks, total = [], 0
    with archive.open(info) as stream:
        while total < cap:
            chunk = stream.read(min(65536, cap - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    return b"".join(chunks)
