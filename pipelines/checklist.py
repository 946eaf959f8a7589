"""The board checklist: the statutory guidance's checklist for local authorities (DfE,
"Statutory guidance on children who run away or go missing from home or care", January
2014, Annex A), nine questions in our own words, each answered by the board with a note
and linked to the mfhc figures that evidence it. Answers are kept with who and when, in
the application state (never in the analytical store), and printed in the board pack."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipelines.config import Settings
from pipelines.state import connect

ANSWERS = ("yes", "partly", "no", "not answered")


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    guidance: str          # the section of the guidance it serves
    evidence: tuple        # (label, dashboard path) of the figures that evidence it


QUESTIONS = (
    Question("protocol", "Is there a runaway and missing from home and care protocol, agreed with the police "
             "and partner agencies, that the board has seen and that is reviewed?", "section \"Runaway and Missing From Home and Care (RMFHC) protocol\"",
             (("Overview: episodes and trend", "/"),)),
    Question("risk", "Are missing children's risks assessed with the police, and are high-risk episodes "
             "followed up?", "section \"When a child goes missing: risk assessment\"", (("Overview: high-risk episodes", "/"),
                                                   ("Repeat missing: escalation", "/repeat"))),
    Question("return-interviews", "Is every child who returns offered an independent return interview "
             "within 72 hours, and is take-up monitored?", "section \"Independent return interviews\"",
             (("Return interviews: offered within 72 hours", "/interviews"),)),
    Question("interview-learning", "Is what children say in return interviews shared and used to plan for "
             "them and to understand why children go missing?", "section \"Independent return interviews\"",
             (("Return interviews: reasons and risks", "/interviews"),)),
    Question("repeat", "Are children who go missing repeatedly identified and given a multi-agency "
             "response?", "section \"Children who repeatedly run away and go missing\"", (("Repeat missing", "/repeat"),)),
    Question("data", "Are data on missing episodes, return interviews and school absence collected, "
             "shared between agencies and analysed for patterns and hotspots?", "section \"Collecting, sharing and analysing data on children who go missing\"",
             (("Area hotspots", "/hotspots"), ("School absence", "/absence"), ("Data quality", "/quality"))),
    Question("reporting", "Do council members and the board receive regular reports on children who go "
             "missing, including trends by children's home?", "sections \"Local Safeguarding Children Board\" and \"Collecting, sharing and analysing data\"",
             (("Children's homes", "/homes"), ("Overview", "/"))),
    Question("care-planning", "Do care plans and placement decisions for looked-after children address the "
             "risk of going missing, including for children placed out of area?", "sections \"Care planning and review\" and \"Out of area placements\"",
             (("Looked-after children: placed out of area", "/care"),)),
    Question("trafficking", "Are looked-after children who may have been trafficked, including "
             "unaccompanied asylum-seeking children, identified and protected from going missing?",
             "section \"Looked after children who may have been trafficked from abroad\"", (("Looked-after children: UASC", "/care"),)),
)
QUESTION_IDS = tuple(q.id for q in QUESTIONS)


class ChecklistError(ValueError):
    pass


def record_answer(question_id: str, answer: str, note: str, user: str, settings: Settings | None = None,
                  at: dt.datetime | None = None) -> dict:
    if question_id not in QUESTION_IDS:
        raise ChecklistError(f"unknown checklist question {question_id!r}")
    if answer not in ANSWERS:
        raise ChecklistError(f"answer must be one of {', '.join(ANSWERS)}")
    note = (note or "").strip()
    if len(note) > 2000:
        raise ChecklistError("a note holds at most 2,000 characters")
    when = (at or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
    with connect(settings) as con:
        con.execute("insert into checklist_answers values (?, ?, ?, ?, ?)",
                    (question_id, answer, note, user, when))
    return {"question_id": question_id, "answer": answer, "note": note, "answered_by": user, "answered_at": when}


def current_answers(settings: Settings | None = None) -> dict[str, dict]:
    """{question id: the latest answer} (questions never answered are absent)."""
    with connect(settings) as con:
        rows = con.execute(
            "select question_id, answer, note, answered_by, answered_at from checklist_answers "
            "order by answered_at, rowid").fetchall()
    return {row["question_id"]: dict(row) for row in rows}


def checklist(settings: Settings | None = None) -> list[dict]:
    """Every question with its current answer, in the guidance's order (for the page and the pack)."""
    answers = current_answers(settings)
    return [{"id": q.id, "question": q.text, "guidance": q.guidance, "evidence": list(q.evidence),
             **answers.get(q.id, {"answer": "not answered", "note": "", "answered_by": None, "answered_at": None})}
            for q in QUESTIONS]
