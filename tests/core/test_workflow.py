"""The shared workflow machinery: every (state, action) pair of every transition table, and stored materials."""

from __future__ import annotations

import hashlib

import pytest

from tests.builders import make_subject
from xinyong.commitments import rules as commitment_rules
from xinyong.core import audit
from xinyong.core.errors import Conflict, DomainError
from xinyong.core.workflow import MAX_ATTACHMENT_BYTES, Upload, attach, attachments
from xinyong.objections import rules as objection_rules
from xinyong.repair import rules as repair_rules

TABLES = {
    "repair": (repair_rules.TRANSITIONS, repair_rules.RepairState, repair_rules.RepairAction),
    "objection": (objection_rules.TRANSITIONS, objection_rules.ObjectionState, objection_rules.ObjectionAction),
    "commitment": (commitment_rules.TRANSITIONS, commitment_rules.CommitmentState, commitment_rules.CommitmentAction),
}


@pytest.mark.parametrize("name", TABLES)
def test_every_state_and_action_is_allowed_exactly_as_the_table_says(name):
    table, states, actions = TABLES[name]
    for state in states:
        for action in actions:
            sources, target = table.table[action]
            if state in sources:
                assert table.target(state.value, action) is target
            else:
                with pytest.raises(Conflict) as refused:
                    table.target(state.value, action)
                assert refused.value.code == "invalid_transition" and refused.value.status_code == 409
                assert table.state_labels[state] in refused.value.message
        assert set(table.next_actions(state.value)) == {a for a in actions if state in table.table[a][0]}


@pytest.mark.parametrize("name", TABLES)
def test_every_state_has_a_label_and_every_action_a_label(name):
    table, states, actions = TABLES[name]
    assert set(table.state_labels) == set(states) and set(table.action_labels) == set(actions)


def test_materials_are_checked_before_they_are_stored(session):
    subject = make_subject(session)
    stored = attach(session, "repair", subject.id, Upload("proof", "凭证.PDF", b"%PDF-1.4"), audit.SYSTEM)
    assert stored.sha256 == hashlib.sha256(b"%PDF-1.4").hexdigest() and stored.size == 8
    for upload, code in [
        (Upload("proof", "空.pdf", b""), "empty_attachment"),
        (Upload("proof", "大.pdf", b"x" * (MAX_ATTACHMENT_BYTES + 1)), "attachment_too_large"),
        (Upload("proof", "脚本.html", b"<script>"), "attachment_type"),
    ]:
        with pytest.raises(DomainError) as refused:
            attach(session, "repair", subject.id, upload, audit.SYSTEM)
        assert refused.value.code == code and upload.file_name in refused.value.message
    assert [a.file_name for a in attachments(session, "repair", subject.id)] == ["凭证.PDF"]
