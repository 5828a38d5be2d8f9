"""Hostile uploads get findings and nothing else; diagrams from other tools are accepted as drafts or refused with
findings, never a 500, each within 5 seconds; accepted ones keep every byte (unknown extensions included)."""

from __future__ import annotations

import io
import json
import stat
import time
import zipfile

import foreign_diagrams as F
import pytest
from sqlalchemy import func, select

from carepath.engine.authoring_models import PathwayDraft
from carepath.engine.models import PathwayVersion

LIMIT_SECONDS = 5.0


def _counts(cp) -> tuple[int, int]:
    with cp.db() as session:
        return (
            session.scalar(select(func.count()).select_from(PathwayDraft)),
            session.scalar(select(func.count()).select_from(PathwayVersion)),
        )


def _post(api, files: dict):
    started = time.monotonic()
    status, body = api.post("/api/v1/pathways/drafts", {"files": files}, "admin")
    elapsed = time.monotonic() - started
    assert elapsed < LIMIT_SECONDS, f"{elapsed:.1f} s"
    assert status in (201, 422), (status, body)
    return status, body


HOSTILE_FILES = {
    "xxe": ("xxe.bpmn", F.XXE, "DOCTYPE"),
    "billion_laughs": ("lolz.bpmn", F.BILLION_LAUGHS, "DOCTYPE"),
    "external_dtd": ("ext.bpmn", F.EXTERNAL_DTD, "DOCTYPE"),
    "parameter_entity": ("pe.dmn", F.PARAMETER_ENTITY, "DOCTYPE"),
    "svg_as_bpmn": ("picture.bpmn", F.SVG, "not a BPMN 2.0 diagram"),
    "html_as_bpmn": ("page.bpmn", F.HTML, "not a BPMN 2.0 diagram"),
    "dmn_as_bpmn": ("table.bpmn", F.DMN_AS_BPMN, "not a BPMN 2.0 diagram"),
    "bpmn_as_dmn": ("table.dmn", F.no_layout("table"), "not a DMN decision table file"),
    "not_xml": ("broken.bpmn", "<definitions", "not well-formed XML"),
    "import": ("h_import.bpmn", F.with_script("h_import", "import os\nos.system('id')"), "imports a module"),
    "from_import": ("h_from.bpmn", F.with_script("h_from", "from os import system"), "imports a module"),
    "dunder_walk": ("h_walk.bpmn", F.with_script("h_walk", "x = ().__class__.__base__.__subclasses__()"), "_"),
    "dunder_string": ("h_str.bpmn", F.with_script("h_str", 'x = "__cla" + "ss__"'), "double underscores"),
    "open_file": ("h_open.bpmn", F.with_script("h_open", 'x = open("/etc/passwd").read()'), "open()"),
    "getattr": ("h_getattr.bpmn", F.with_script("h_getattr", 'x = getattr(1, "real")'), "getattr()"),
    "builtins": ("h_builtins.bpmn", F.with_script("h_builtins", "x = __builtins__"), "_"),
    "json_bomb": ("deep.schema.json", "[" * 5000 + "]" * 5000, "JSON"),
    "deep_json": ("nested.schema.json", json.dumps(json.loads('{"a":' * 60 + "1" + "}" * 60)), "nested"),
    "json_not_object": ("list.schema.json", "[1, 2]", "one JSON object"),
    "path_name": ("../intake.bpmn", F.no_layout("intake"), "not a pathway file name"),
    "folder_name": ("workflows/intake.bpmn", F.no_layout("intake"), "not a pathway file name"),
    "executable_name": ("intake.exe", "MZ", "not a pathway file name"),
    "reserved_name": ("drafts.bpmn", F.no_layout("drafts"), "may not be called"),
    "oversized": (
        "big.bpmn",
        F.no_layout("big").replace("</bpmn:definitions>", "<!--" + "x" * 2_100_000 + "--></bpmn:definitions>"),
        "larger than 2 MB",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_FILES))
def test_hostile_files_get_findings_and_nothing_is_saved(api, cp, case):
    name, text, says = HOSTILE_FILES[case]
    before = _counts(cp)
    status, body = _post(api, {name: text})
    assert status == 422
    assert any(says in f["message"] for f in body["findings"]), body["findings"]
    assert all(f["severity"] == "error" for f in body["findings"])
    assert _counts(cp) == before


def test_a_hostile_script_in_every_place_python_hides(api, cp):
    """Conditions, timers, due times, message payloads and DMN cells are scripts too."""
    bpmn = api.get("/api/v1/pathways/intake", "admin")[1]["versions"][0]["files"]["intake.bpmn"]
    dmn = api.get("/api/v1/pathways/assessment", "admin")[1]["versions"][0]["files"]["risk_level.dmn"]
    before = _counts(cp)
    places = {
        "condition": (
            "intake.bpmn",
            bpmn.replace(
                "crisis_started</bpmn:conditionExpression>", "open('/etc/passwd')</bpmn:conditionExpression>", 1
            ),
        ),
        "dueIn": ("intake.bpmn", bpmn.replace('value="&quot;P1D&quot;"', "value='__import__(\"os\")'", 1)),
        "payload": ("intake.bpmn", bpmn.replace('{"reason": crisis_reason', '{"reason": vars()', 1)),
        "dmn": ("risk_level.dmn", dmn.replace('<text>"imminent"</text>', "<text>().__class__</text>", 1)),
    }
    for place, (name, text) in places.items():
        status, body = _post(api, {name: text})
        assert status == 422, place
        assert any("refused" in f["message"] and f["line"] for f in body["findings"]), (place, body)
    assert _counts(cp) == before


def test_nul_characters_are_refused_by_the_api_and_in_uploads(api, cp, actors):
    before = _counts(cp)
    status, body = api.post("/api/v1/pathways/drafts", {"files": {"nul.bpmn": "\x00" * 10}}, "admin")
    assert status == 400 and "NUL" in body["error"]["message"]  # the API refuses NUL anywhere in a body
    draft_id, review = cp.import_into_draft(actors["admin"], None, [("nul.bpmn", b"\x00" * 10)])
    assert draft_id is None and "NUL" in review.refused[0].message
    assert _counts(cp) == before


def test_a_request_over_the_size_limit_is_refused_plainly(api, cp):
    before = _counts(cp)
    status, body = api.call(
        "POST", "/api/v1/pathways/drafts", "admin", raw=json.dumps({"files": {"a.bpmn": "x" * 5_000_000}}).encode()
    )
    assert status == 413 and body["error"]["code"] == "too_large"
    assert _counts(cp) == before


FOREIGN = {
    # name: (file name, text, accepted?, what a finding says)
    "camunda_pools": ("follow_up_call.bpmn", F.camunda_pools(), True, "camunda:"),
    "camunda_engine": ("camunda_review.bpmn", F.camunda_engine_diagram(), False, "JUEL/FEEL"),
    "signavio": ("signavio_intake.bpmn", F.signavio_export(), False, "exactly one executable process"),
    "trisotech": ("trisotech_follow_up.bpmn", F.trisotech_export(), True, "triso:"),
    "no_layout": ("no_layout.bpmn", F.no_layout(), True, "no diagram layout"),
    "event_subprocess": ("with_event_subprocess.bpmn", F.event_subprocess(), True, "never interrupts"),
    "compensation": ("with_compensation.bpmn", F.compensation(), False, "compensation is not supported"),
}


@pytest.mark.parametrize("case", sorted(FOREIGN))
def test_diagrams_from_other_tools(api, cp, case):
    name, text, accepted, says = FOREIGN[case]
    before = _counts(cp)
    status, body = _post(api, {name: text})
    assert any(says in f["message"] for f in body["findings"]), body["findings"]
    if not accepted:
        assert status == 422 and _counts(cp) == before
        assert any(f["severity"] == "error" and f["line"] for f in body["findings"])
        return
    assert status == 201 and all(f["severity"] == "warning" for f in body["findings"])
    status, draft = api.get(f"/api/v1/pathways/drafts/{body['id']}", "supervisor")
    assert draft["files"][name] == text  # kept byte for byte: other tools' extensions survive
    status, published = api.post(f"/api/v1/pathways/drafts/{body['id']}/approve", None, "supervisor")
    assert status == 200
    [(pathway, version)] = [(v["pathway"], v["version"]) for v in published["versions"]]
    assert api.get(f"/api/v1/pathways/{pathway}", "quality")[1]["versions"][0]["files"][name] == text
    zipped = zipfile.ZipFile(io.BytesIO(cp.export_pathway_version(_actor(cp, "quality"), pathway, version)))
    assert zipped.read(f"{pathway}-v1/workflows/{name}").decode() == text


def _actor(cp, username):
    from support import actors_of

    return actors_of(cp)[username]


# ---------- zips (the import page) ----------


def _zip(entries: list[tuple[str, bytes]], mode=zipfile.ZIP_DEFLATED, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", mode) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = mode
            if name == link:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, data)
    return buffer.getvalue()


def _encrypted(entries) -> bytes:
    data = bytearray(_zip(entries, zipfile.ZIP_STORED))
    # Set the "encrypted" flag in the local and central headers: what a password-protected entry carries.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + offset] |= 1
    return bytes(data)


GOOD = F.no_layout("zipped_pathway").encode()
ZIPS = {
    "zip_bomb": (_zip([("workflows/a.bpmn", b"\0" * 30_000_000)]), "zip bomb"),
    "zip_climbs_out": (_zip([("../../etc/cron.d/x.bpmn", GOOD)]), "climbs out"),
    "zip_absolute": (_zip([("/etc/x.bpmn", GOOD)]), "absolute"),
    "zip_symlink": (_zip([("workflows/x.bpmn", b"/etc/passwd")], link="workflows/x.bpmn"), "symbolic link"),
    "zip_nested_zip": (_zip([("inner.zip", _zip([("a.bpmn", GOOD)]))]), "archives inside"),
    "zip_encrypted": (_encrypted([("workflows/a.bpmn", GOOD)]), "encrypted"),
    "zip_not_a_zip": (b"PK\x03\x04 this is not really a zip", "not a readable zip"),
    "zip_hostile_member": (_zip([("workflows/x.bpmn", F.XXE.encode()), ("forms/ok.schema.json", b"{}")]), "DOCTYPE"),
    "zip_many_entries": (_zip([(f"f{i}.txt", b"") for i in range(600)]), "entries"),
    "zip_duplicate_names": (_zip([("a/x.bpmn", GOOD), ("b/x.bpmn", GOOD + b" ")]), "two different files"),
}


@pytest.mark.parametrize("case", sorted(ZIPS))
def test_hostile_zips_are_refused_whole(cp, actors, case):
    data, says = ZIPS[case]
    before = _counts(cp)
    started = time.monotonic()
    draft_id, review = cp.import_into_draft(actors["admin"], None, [("library.zip", data)])
    assert time.monotonic() - started < LIMIT_SECONDS
    assert draft_id is None and review.refused
    assert any(says in f.message for f in review.refused), review.refused
    assert _counts(cp) == before


def test_single_files_that_are_not_text_are_refused(cp, actors):
    before = _counts(cp)
    for name, data, says in (
        ("x.bpmn", "é".encode("latin-1") * 10, "UTF-8"),
        ("notes.txt", b"hello", "not a pathway"),
        ("big.bpmn", b"x" * 4_100_000, "larger than 4 MB"),
    ):
        draft_id, review = cp.import_into_draft(actors["admin"], None, [(name, data)])
        assert draft_id is None and any(says in f.message for f in review.refused), review.refused
    assert _counts(cp) == before


def test_a_library_zip_round_trips_into_a_draft(cp, actors):
    """Download a version, upload the zip again: the draft holds the same files, and changes nothing."""
    admin = actors["admin"]
    exported = cp.export_pathway_version(admin, "intake", 1)
    draft_id, review = cp.import_into_draft(admin, None, [("intake-v1.zip", exported)])
    assert draft_id is not None and not review.refused and review.pathways == []
    assert review.files == cp.pathway_version_files(admin, "intake", 1)
    names = zipfile.ZipFile(io.BytesIO(exported)).namelist()
    assert "intake-v1/workflows/intake.bpmn" in names and "intake-v1/forms/referral.schema.json" in names


def test_an_encoding_named_in_the_xml_declaration_does_not_garble_the_text(api):
    """Text sent as JSON is already decoded: a declared ISO-8859-1 or UTF-16 must not be applied again."""
    for declared in ("ISO-8859-1", "UTF-16"):
        text = (
            F.no_layout("declared_enc")
            .replace('encoding="UTF-8"', f'encoding="{declared}"')
            .replace('name="Call the client"', 'name="Appeler la cliente (né·e)"')
        )
        status, body = _post(api, {"declared_enc.bpmn": text})
        assert status == 201, body
        draft = api.get(f"/api/v1/pathways/drafts/{body['id']}", "admin")[1]
        assert "Appeler la cliente (né·e)" in draft["files"]["declared_enc.bpmn"]
