"""adapter.events: every event type's model, two-step parsing, and rejection messages."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest

from adapter.errors import RejectedInput
from adapter.events import (
    DATA_MODELS,
    EXTERNAL_EVENT_TYPES,
    INTERNAL_EVENT_TYPES,
    ConsentExpiredData,
    ConsentWithdrawnData,
    Event,
    EventType,
    MeetingHeldData,
    canonical_json,
    content_hash,
    decode_json,
    parse_event,
    parse_line,
    validation_context,
)
from adapter.profiles import Profile, get_profile

CHILD_NIN = "14831651238"
MOR_NIN = "02898411829"
HOLDER_NIN = "07857933170"
WORKER_NIN = "19868820783"
CHILD_NAME = "Emma Solberg Haugen"
MOR_NAME = "Ingrid Haugen"
EVENT_ID = "0b9f1c1e-5d7e-4d38-9a51-2f4f7f3c1a10"
PDF = b"%PDF-1.4\n% minimal test content\n%%EOF\n"


@dataclass(frozen=True)
class Rules:
    """A stub tenant: what `TenantRules` asks for."""

    accept_synthetic_nin: bool
    profile_obj: Profile


DEMO = {
    "modum": Rules(True, get_profile("modum")),
    "vardo": Rules(True, get_profile("vardo")),
    "strict": Rules(False, get_profile("modum")),
}


def rules(tenant: str) -> Rules | None:
    """Demo-like rules: both seed tenants accept synthetic nins; `strict` does not."""
    return DEMO.get(tenant)


def minutes() -> dict[str, Any]:
    return {
        "content_base64": base64.b64encode(PDF).decode(),
        "filename": "referat-M1.pdf",
        "media_type": "application/pdf",
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "title": "Referat nettverksmøte",
    }


VALID: dict[EventType, dict[str, Any]] = {
    EventType.CASE_OPENED: {
        "child": {"name": CHILD_NAME, "nin": CHILD_NIN},
        "guardians": [
            {"name": MOR_NAME, "nin": MOR_NIN, "relation": "mor", "guardian_id": "G-mor"}
        ],
        "service": "skole",
        "level": 0,
        "step": 1,
        "stafettholder": {"name": "Marte Lien", "nin": HOLDER_NIN, "service": "skole"},
    },
    EventType.STEP_ENTERED: {"level": 2, "step": 2},
    EventType.CONSENT_GRANTED: {
        "consent_id": "C1",
        "given_by": [{"name": MOR_NAME, "nin": MOR_NIN, "relation": "mor"}],
        "services": ["skole", "ppt"],
        "valid_from": "2026-03-16",
        "valid_to": "2027-03-15",
        "document_ref": "https://bti.modum.kommune.no/documents/42",
    },
    EventType.CONSENT_WITHDRAWN: {"consent_id": "C1", "reason": "Foresatte trekker samtykket."},
    EventType.CONSENT_EXPIRED: {"consent_id": "C1"},
    EventType.PARTICIPANT_ADDED: {
        "participant_id": "P1",
        "name": "Siri Bakke",
        "nin": WORKER_NIN,
        "role": "deltaker",
        "service": "skolehelsetjeneste",
    },
    EventType.PARTICIPANT_REMOVED: {"participant_id": "P1"},
    EventType.STAFETTHOLDER_CHANGED: {
        "name": "Siri Bakke",
        "nin": WORKER_NIN,
        "service": "skolehelsetjeneste",
        "accepted_at": "2026-04-20T09:10:00+02:00",
    },
    EventType.GOAL_SET: {"goal_id": "G1", "title": "Trives i friminuttene"},
    EventType.GOAL_UPDATED: {"goal_id": "G1", "target_date": "2026-09-30"},
    EventType.GOAL_CLOSED: {"goal_id": "G1", "outcome": "achieved"},
    EventType.MEASURE_AGREED: {
        "measure_id": "T1",
        "goal_id": "G1",
        "title": "Voksenstøtte i friminuttene",
        "arena": "skole",
        "responsible_service": "skole",
        "start_date": "2026-02-02",
    },
    EventType.MEASURE_UPDATED: {"measure_id": "T1", "end_date": "2026-06-19"},
    EventType.MEASURE_ENDED: {"measure_id": "T1", "evaluation": "Fungerte godt."},
    EventType.RESPONSIBILITY_ASSIGNED: {
        "responsibility_id": "A1",
        "participant_id": "stafettholder",
        "task": "Kalle inn til nettverksmøte",
        "due_date": "2026-04-01",
    },
    EventType.RESPONSIBILITY_COMPLETED: {"responsibility_id": "A1"},
    EventType.MEETING_SCHEDULED: {
        "meeting_id": "M1",
        "kind": "nettverksmote",
        "starts_at": "2026-04-08T09:00:00+02:00",
        "ends_at": "2026-04-08T10:30:00+02:00",
        "participant_ids": ["stafettholder", "G-mor", "P1"],
    },
    EventType.MEETING_RESCHEDULED: {
        "meeting_id": "M1",
        "starts_at": "2026-04-09T09:00:00+02:00",
        "ends_at": "2026-04-09T10:00:00+02:00",
        "location": "Rådhuset",
    },
    EventType.MEETING_CANCELLED: {"meeting_id": "M1"},
    EventType.MEETING_HELD: {"meeting_id": "M1", "minutes": minutes()},
    EventType.DECISION_RECORDED: {
        "meeting_id": "M1",
        "outcome": "refer",
        "next_meeting_due": "2026-05-06",
    },
    EventType.LOG_NOTED: {"note_id": "N1", "text": "Samtale med foresatte gjennomført."},
    EventType.IP_GRANTED: {
        "coordinator": {"name": "Randi Mikkelsen", "nin": WORKER_NIN, "service": "psykisk-helse"},
        "decided_at": "2026-04-07T09:30:00+02:00",
    },
    EventType.CASE_CLOSED: {"reason": "goals-achieved"},
}

# (change to the valid data, the field the rejection must name)
INVALID: dict[EventType, tuple[dict[str, Any], str]] = {
    EventType.CASE_OPENED: ({"child": {"name": CHILD_NAME, "nin": None}}, "data.child.nin"),
    EventType.STEP_ENTERED: ({"level": 4}, "data.level"),
    EventType.CONSENT_GRANTED: ({"valid_to": "2026-03-01"}, "data.valid_to"),
    EventType.CONSENT_WITHDRAWN: ({"consent_id": "C 1"}, "data.consent_id"),
    EventType.CONSENT_EXPIRED: ({"consent_id": ""}, "data.consent_id"),
    EventType.PARTICIPANT_ADDED: ({"role": "foresatt"}, "data.role"),
    EventType.PARTICIPANT_REMOVED: ({"participant_id": 7}, "data.participant_id"),
    EventType.STAFETTHOLDER_CHANGED: ({"nin": None}, "data.nin"),
    EventType.GOAL_SET: ({"title": "   "}, "data.title"),
    EventType.GOAL_UPDATED: ({"target_date": None}, "data"),
    EventType.GOAL_CLOSED: ({"outcome": "done"}, "data.outcome"),
    EventType.MEASURE_AGREED: ({"responsible_service": None}, "data.responsible_participant_id"),
    EventType.MEASURE_UPDATED: ({"end_date": None}, "data"),
    EventType.MEASURE_ENDED: ({"evaluation": None}, "data.evaluation"),
    EventType.RESPONSIBILITY_ASSIGNED: ({"due_date": "01.04.2026"}, "data.due_date"),
    EventType.RESPONSIBILITY_COMPLETED: ({"responsibility_id": None}, "data.responsibility_id"),
    EventType.MEETING_SCHEDULED: ({"ends_at": "2026-04-08T08:00:00+02:00"}, "data.ends_at"),
    EventType.MEETING_RESCHEDULED: ({"starts_at": "2026-04-09T09:00:00"}, "data.starts_at"),
    EventType.MEETING_CANCELLED: ({"reason": ["x"]}, "data.reason"),
    EventType.MEETING_HELD: ({"minutes": {**minutes(), "sha256": "0" * 63}}, "data.minutes.sha256"),
    EventType.DECISION_RECORDED: ({"outcome": "park"}, "data.outcome"),
    EventType.LOG_NOTED: ({"text": ""}, "data.text"),
    EventType.IP_GRANTED: ({"decided_at": "2026-04-07"}, "data.decided_at"),
    EventType.CASE_CLOSED: ({"reason": "transferred-to-ip"}, "data.reason"),
}


def event(kind: EventType, data: dict[str, Any] | None = None, **envelope: Any) -> dict[str, Any]:
    """A raw event of `kind` with valid data unless `data` is given."""
    raw: dict[str, Any] = {
        "event_id": EVENT_ID,
        "schema_version": 1,
        "tenant": "modum",
        "case_id": "BTI-2026-0042",
        "sequence": 1 if kind is EventType.CASE_OPENED else 7,
        "occurred_at": "2026-11-02T10:15:00+01:00",
        "type": kind.value,
        "actor": {"name": "Kari Nordmann", "service": "skole"},
        "data": copy.deepcopy(VALID[kind]) if data is None else data,
    }
    raw.update(envelope)
    return raw


def rejected(raw: object, **kwargs: Any) -> RejectedInput:
    """Parse `raw` expecting a rejection; return it."""
    with pytest.raises(RejectedInput) as info:
        parse_event(raw, rules=rules, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_the_tables_cover_every_type() -> None:
    """The valid and invalid tables name every event type, so no type goes untested."""
    assert set(VALID) == set(EventType) == set(INVALID) == set(DATA_MODELS)


@pytest.mark.parametrize("kind", list(EventType), ids=str)
def test_valid_data_parses_into_its_model(kind: EventType) -> None:
    """Each type's valid example parses into the data model the registry names."""
    parsed = parse_event(event(kind), rules=rules, allow_internal=True)
    assert parsed.type is kind
    assert type(parsed.data) is DATA_MODELS[kind]
    assert str(parsed.event_id) == EVENT_ID


@pytest.mark.parametrize("kind", list(EventType), ids=str)
def test_invalid_data_names_the_field(kind: EventType) -> None:
    """Each type's invalid example is rejected naming the broken field, with the event_id."""
    change, field = INVALID[kind]
    data = {**copy.deepcopy(VALID[kind]), **change}
    error = rejected(event(kind, data), allow_internal=True)
    assert error.field == field
    assert error.event_id == EVENT_ID
    assert f"event {EVENT_ID}: {field}: " in str(error)


@pytest.mark.parametrize("kind", list(EventType), ids=str)
def test_round_trip_through_model_dump_json(kind: EventType) -> None:
    """parse_event(json.loads(e.model_dump_json())) gives back an equal event."""
    parsed = parse_event(event(kind), rules=rules, allow_internal=True)
    again = parse_event(json.loads(parsed.model_dump_json()), rules=rules, allow_internal=True)
    assert again == parsed


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ((), EventType.LOG_NOTED),
        (("actor",), EventType.LOG_NOTED),
        (("data",), EventType.LOG_NOTED),
        (("data", "child"), EventType.CASE_OPENED),
        (("data", "guardians", 0), EventType.CASE_OPENED),
        (("data", "stafettholder"), EventType.CASE_OPENED),
        (("data", "given_by", 0), EventType.CONSENT_GRANTED),
        (("data", "coordinator"), EventType.IP_GRANTED),
        (("data", "minutes"), EventType.MEETING_HELD),
    ],
)
def test_unknown_field_is_rejected_at_every_level(
    path: tuple[str | int, ...], kind: EventType
) -> None:
    """A typo'd or extra field anywhere is rejected, naming its full dotted path."""
    raw = event(kind)
    target: Any = raw
    for part in path:
        target = target[part]
    target["nmae"] = "x"
    error = rejected(raw)
    assert error.field == ".".join([*map(str, path), "nmae"])
    assert "unknown field" in str(error)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"schema_version": 2}, "schema_version"),
        ({"schema_version": True}, "schema_version"),
        ({"case_id": "BTI/2026/0042"}, "case_id"),
        ({"case_id": "x" * 65}, "case_id"),
        ({"sequence": 0}, "sequence"),
        ({"sequence": "7"}, "sequence"),
        ({"occurred_at": "2026-11-02T10:15:00"}, "occurred_at"),
        ({"type": "goal.deleted"}, "type"),
        ({"tenant": "drammen"}, "tenant"),
        ({"actor": {"name": "Kari Nordmann", "service": "politi"}}, "actor.service"),
        ({"data": []}, "data"),
    ],
)
def test_envelope_errors_name_the_field(change: dict[str, Any], field: str) -> None:
    """Envelope mistakes are rejected naming the envelope field."""
    error = rejected(event(EventType.LOG_NOTED, **change))
    assert error.field == field


@pytest.mark.parametrize("missing", ["event_id", "tenant", "case_id", "sequence", "type", "data"])
def test_missing_envelope_field(missing: str) -> None:
    """A missing envelope field is rejected as missing."""
    raw = event(EventType.LOG_NOTED)
    del raw[missing]
    error = rejected(raw)
    assert error.field == missing
    assert "missing" in str(error)


def test_internal_type_only_from_internal_code() -> None:
    """consent.expired is refused from outside doors and accepted with allow_internal."""
    raw = event(EventType.CONSENT_EXPIRED)
    assert rejected(raw).field == "type"
    assert isinstance(parse_event(raw, rules=rules, allow_internal=True).data, ConsentExpiredData)
    assert EventType.CONSENT_EXPIRED in INTERNAL_EVENT_TYPES - EXTERNAL_EVENT_TYPES


def test_synthetic_nin_depends_on_the_tenant() -> None:
    """The same synthetic nin is accepted for a test tenant and refused for a strict one."""
    assert parse_event(event(EventType.CASE_OPENED), rules=rules).data
    error = rejected(event(EventType.CASE_OPENED, tenant="strict"))
    assert error.field == "data.child.nin"
    assert "synthetic" in str(error)


def test_bad_nin_check_digit_is_rejected() -> None:
    """A guardian nin with a wrong check digit is rejected at its path."""
    raw = event(EventType.CASE_OPENED)
    raw["data"]["guardians"][0]["nin"] = MOR_NIN[:10] + str((int(MOR_NIN[10]) + 1) % 10)
    error = rejected(raw)
    assert error.field == "data.guardians.0.nin"
    assert "not a valid national identity number" in str(error)


def test_optional_nin_may_be_null_for_participants() -> None:
    """A participant without a nin is valid; the stafettholder's nin is required."""
    data = {**VALID[EventType.PARTICIPANT_ADDED], "nin": None}
    assert parse_event(event(EventType.PARTICIPANT_ADDED, data), rules=rules).data
    data = dict(VALID[EventType.STAFETTHOLDER_CHANGED])
    del data["nin"]
    assert rejected(event(EventType.STAFETTHOLDER_CHANGED, data)).field == "data.nin"


@pytest.mark.parametrize(
    ("raw", "secrets"),
    [
        (
            event(
                EventType.CASE_OPENED,
                {**VALID[EventType.CASE_OPENED], "child": {"name": CHILD_NAME, "nin": "1"}},
            ),
            [CHILD_NAME, MOR_NAME],
        ),
        (event(EventType.CASE_OPENED, tenant="strict"), [CHILD_NIN, MOR_NIN, HOLDER_NIN]),
        (
            event(EventType.PARTICIPANT_ADDED, {**VALID[EventType.PARTICIPANT_ADDED], "name": 5}),
            [WORKER_NIN, "Siri Bakke"],
        ),
        (
            event(EventType.LOG_NOTED, {"note_id": CHILD_NIN + " " + CHILD_NAME, "text": "x"}),
            [CHILD_NIN, CHILD_NAME],
        ),
        (
            event(EventType.LOG_NOTED, {**VALID[EventType.LOG_NOTED], CHILD_NIN: CHILD_NAME}),
            [CHILD_NIN, CHILD_NAME],
        ),
        (event(EventType.LOG_NOTED, event_id=CHILD_NIN), [CHILD_NIN]),
    ],
    ids=["bad-child-nin", "synthetic-refused", "wrong-type-name", "bad-id", "nin-as-key", "id"],
)
def test_messages_never_contain_a_nin_or_a_name(raw: dict[str, Any], secrets: list[str]) -> None:
    """str, repr and field of a rejection carry no nin or name, and no chained pydantic error."""
    error = rejected(raw)
    shown = " ".join([str(error), repr(error), error.field or "", error.message])
    for secret in secrets:
        assert secret not in shown
        assert secret[:6] not in shown
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_several_errors_are_all_listed_first_one_is_the_field() -> None:
    """With several mistakes the field is the first and the message lists them all."""
    error = rejected(event(EventType.GOAL_SET, {"goal_id": "G 1"}))
    assert error.field == "data.goal_id"
    assert "data.title: required field is missing" in str(error)


def test_case_opened_must_be_sequence_one() -> None:
    """case.opened anywhere but sequence 1 is rejected."""
    assert rejected(event(EventType.CASE_OPENED, sequence=3)).field == "sequence"


def test_step_must_exist_in_the_tenant_profile() -> None:
    """A step the tenant's profile lacks is rejected; the same step in another profile is fine."""
    raw = event(EventType.STEP_ENTERED, {"level": 2, "step": 6})
    assert parse_event(raw, rules=rules).data
    error = rejected({**raw, "tenant": "vardo"})
    assert error.field == "data.step"


def test_level_must_exist_in_the_tenant_profile() -> None:
    """A level missing from a (smaller) profile is rejected at data.level."""
    small = Profile(key="small", name="Small", levels={0: ("A",), 1: ("B",)}, create_plan_at=(1, 1))

    def small_rules(tenant: str) -> Rules | None:
        return Rules(True, small) if tenant == "modum" else None

    raw = event(EventType.STEP_ENTERED, {"level": 2, "step": 1})
    with pytest.raises(RejectedInput) as info:
        parse_event(raw, rules=small_rules)
    assert info.value.field == "data.level"


def test_reserved_participant_id_cannot_be_taken() -> None:
    """'stafettholder' is reserved: neither a participant nor a guardian may use it as id."""
    data = {**VALID[EventType.PARTICIPANT_ADDED], "participant_id": "stafettholder"}
    assert rejected(event(EventType.PARTICIPANT_ADDED, data)).field == "data.participant_id"
    raw = event(EventType.CASE_OPENED)
    raw["data"]["guardians"][0]["guardian_id"] = "stafettholder"
    assert rejected(raw).field == "data.guardians.0.guardian_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"document_ref": "https://bti.modum.kommune.no/documents/7"}, "data.minutes.document_ref"),
        ({"content_base64": "not base64!"}, "data.minutes.content_base64"),
        ({"content_base64": None}, "data.minutes.document_ref"),
        ({"sha256": "abc"}, "data.minutes.sha256"),
        ({"filename": "../referat.pdf"}, "data.minutes.filename"),
        ({"media_type": "pdf"}, "data.minutes.media_type"),
    ],
)
def test_minutes_rules(change: dict[str, Any], field: str) -> None:
    """Minutes need exactly one source, valid base64, a sha256 and a plain filename (the
    content is checked against the sha256 when it is archived)."""
    data = {"meeting_id": "M1", "minutes": {**minutes(), **change}}
    assert rejected(event(EventType.MEETING_HELD, data)).field == field


def test_minutes_by_reference_and_decoded_content() -> None:
    """Minutes by document_ref parse without content; inline minutes decode to their bytes."""
    by_ref = {**minutes(), "content_base64": None, "document_ref": "https://h.example/d/1"}
    held = parse_event(
        event(EventType.MEETING_HELD, {"meeting_id": "M1", "minutes": by_ref}), rules=rules
    )
    assert isinstance(held.data, MeetingHeldData)
    assert held.data.minutes.content() is None
    inline = parse_event(event(EventType.MEETING_HELD), rules=rules)
    assert isinstance(inline.data, MeetingHeldData)
    assert inline.data.minutes.content() == PDF
    bad_ref = {**by_ref, "document_ref": "ftp://h.example/d/1"}
    raw = event(EventType.MEETING_HELD, {"meeting_id": "M1", "minutes": bad_ref})
    assert rejected(raw).field == "data.minutes.document_ref"


def test_measure_needs_exactly_one_responsible() -> None:
    """measure.agreed with both or neither responsible is rejected; updates may name one."""
    both = {**VALID[EventType.MEASURE_AGREED], "responsible_participant_id": "P1"}
    assert (
        rejected(event(EventType.MEASURE_AGREED, both)).field == "data.responsible_participant_id"
    )
    one = {"measure_id": "T1", "responsible_participant_id": "P1"}
    assert parse_event(event(EventType.MEASURE_UPDATED, one), rules=rules).data
    two = {**one, "responsible_service": "ppt"}
    assert (
        rejected(event(EventType.MEASURE_UPDATED, two)).field == "data.responsible_participant_id"
    )


def test_duplicate_services_in_a_consent_are_rejected() -> None:
    """A consent listing a service twice is rejected at data.services."""
    data = {**VALID[EventType.CONSENT_GRANTED], "services": ["skole", "skole"]}
    assert rejected(event(EventType.CONSENT_GRANTED, data)).field == "data.services"


def test_not_an_object_is_rejected() -> None:
    """A raw event that is not a mapping is rejected at <json>."""
    assert rejected(["not", "an", "event"]).field == "<json>"


def test_event_model_validate_picks_data_model_by_type() -> None:
    """Event.model_validate chooses the data model by type, even for look-alike data."""
    raw = event(EventType.CONSENT_EXPIRED)
    ctx = validation_context(accept_synthetic_nin=True)
    assert isinstance(Event.model_validate(raw, context=ctx).data, ConsentExpiredData)
    raw["type"] = EventType.CONSENT_WITHDRAWN.value
    assert isinstance(Event.model_validate(raw, context=ctx).data, ConsentWithdrawnData)


def test_event_refuses_data_of_another_type() -> None:
    """An Event whose data instance belongs to another type is invalid."""
    parsed = parse_event(event(EventType.LOG_NOTED), rules=rules)
    with pytest.raises(ValueError, match="does not fit"):
        Event(**{**dict(parsed), "type": EventType.GOAL_SET})


def test_models_are_frozen() -> None:
    """Events cannot be changed after parsing."""
    parsed = parse_event(event(EventType.LOG_NOTED), rules=rules)
    with pytest.raises(ValueError, match="frozen"):
        parsed.sequence = 8


def test_parse_line_names_the_line() -> None:
    """parse_line puts the line number into the message and onto the exception."""
    line = json.dumps(event(EventType.LOG_NOTED, tenant="drammen"))
    with pytest.raises(RejectedInput) as info:
        parse_line(line, line_no=4, rules=rules)
    assert info.value.line == 4
    assert str(info.value).startswith(f"line 4, event {EVENT_ID}: tenant: ")


def test_parse_line_accepts_bytes_and_a_bom() -> None:
    """A UTF-8 line as bytes, with a byte-order mark and newline, parses."""
    line = "\ufeff" + json.dumps(event(EventType.LOG_NOTED), ensure_ascii=False) + "\n"
    assert parse_line(line.encode("utf-8"), line_no=1, rules=rules).type is EventType.LOG_NOTED


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"event_id": "x", \xff}', "UTF-8"),
        ('{"event_id": ', "broken JSON"),
        ("", "empty"),
        ("[1, 2]", "not a JSON object"),
        ('{"a": 1, "a": 2}', "duplicate key"),
        ('{"a": NaN}', "NaN"),
    ],
)
def test_parse_line_json_errors(line: str | bytes, reason: str) -> None:
    """Undecodable lines are rejected at <json> with the line number and a plain reason."""
    with pytest.raises(RejectedInput) as info:
        parse_line(line, line_no=9, rules=rules)
    assert info.value.field == "<json>"
    assert info.value.line == 9
    assert str(info.value).startswith("line 9: <json>: ")
    assert reason in str(info.value)


def test_decode_json_returns_the_value() -> None:
    """decode_json decodes valid JSON text to Python values."""
    assert decode_json(b'{"a": [1, "\xc3\xa6"]}') == {"a": [1, "æ"]}


def test_canonical_json_and_content_hash() -> None:
    """Key order and spacing do not change the canonical form or hash; content does."""
    one = {"b": 1, "a": {"y": "ø", "x": [1, 2]}}
    two = json.loads('{ "a": { "x": [1, 2], "y": "ø" }, "b": 1 }')
    assert canonical_json(one) == '{"a":{"x":[1,2],"y":"ø"},"b":1}'
    assert content_hash(one) == content_hash(two)
    assert content_hash(one) == hashlib.sha256(canonical_json(one).encode()).hexdigest()
    assert content_hash({**one, "b": 2}) != content_hash(one)


@pytest.mark.parametrize(
    "case_id", [CHILD_NIN, "148316-51238", f"BTI-{CHILD_NIN}"], ids=["nin", "6-5", "inside"]
)
def test_a_nin_shaped_case_id_is_refused(case_id: str) -> None:
    """A case id that could be a person's nin never gets in (ids are shown and logged)."""
    error = rejected(event(EventType.LOG_NOTED, case_id=case_id))
    assert error.field == "case_id"
    assert "national identity number" in str(error)
    assert CHILD_NIN[:6] not in str(error)


def test_an_unknown_key_that_looks_like_a_name_is_hidden_in_field_and_message() -> None:
    """An unknown field named like a person (or far too long) is named <hidden>."""
    key = f"Emma Haugen {CHILD_NIN}"
    raw = event(EventType.LOG_NOTED, {**VALID[EventType.LOG_NOTED], key: 1, "x" * 300: 2})
    error = rejected(raw)
    assert error.field == "data.<hidden>"
    assert "Emma" not in str(error) and "x" * 65 not in str(error)
    assert "data.<hidden>: unknown field" in str(error)


def test_a_duplicate_key_that_looks_like_a_name_is_not_quoted() -> None:
    """The duplicate-key reason quotes the key only when it looks like a field name."""
    with pytest.raises(RejectedInput) as info:
        decode_json('{"Emma Haugen": 1, "Emma Haugen": 2}', line=3)
    assert "Emma" not in str(info.value)
    assert "duplicate key '<hidden>'" in str(info.value)


@pytest.mark.parametrize("depth", [200_000, 65], ids=["recursion", "just-over"])
def test_deeply_nested_json_is_refused_not_raised(depth: int) -> None:
    """Nesting past the limit (or past Python's recursion limit) is a <json> refusal."""
    with pytest.raises(RejectedInput) as info:
        decode_json("[" * depth + "]" * depth, line=2)
    assert info.value.field == "<json>"
    assert "nested deeper than 64 levels" in str(info.value)


def test_a_decoded_object_nested_too_deep_is_refused_by_parse_event() -> None:
    """Objects from the feed (decoded elsewhere) meet the same nesting limit."""
    deep: list[Any] = []
    for _ in range(2000):
        deep = [deep]
    error = rejected(event(EventType.LOG_NOTED, {"note_id": "N1", "text": "x", "extra": deep}))
    assert error.field == "<json>"
