"""Board checklist: the statutory guidance's checklist for local authorities, each question
answered by the board with a note, linked to the figures in mfhc that evidence it. Answers
are kept with who and when (pipelines/checklist.py) and printed in the board pack."""

from __future__ import annotations

import dash
import flask
from dash import MATCH, Input, Output, State, callback, dcc, html, no_update

from dashboard import data
from pipelines import checklist
from pipelines.config import load_settings

dash.register_page(__name__, path="/checklist", name="Board checklist", title="Board checklist — mfhc", order=8)

ANSWERING_ROLES = ("board", "manager", "admin")
ANSWER_LABELS = {"yes": "Yes", "partly": "Partly", "no": "No", "not answered": "Not answered"}


def _settings():
    return load_settings(db_path=data.db_path())


def answered_line(item: dict) -> str:
    if not item.get("answered_by"):
        return "Not answered yet."
    return f"Answered {ANSWER_LABELS[item['answer']].lower()} by {item['answered_by']} on {item['answered_at'][:10]}."


def question_card(number: int, item: dict, may_answer: bool) -> html.Section:
    qid = item["id"]
    evidence = html.Ul([html.Li(dcc.Link(label, href=path)) for label, path in item["evidence"]],
                       className="evidence")
    controls = []
    if may_answer:
        controls = [
            html.Fieldset([
                html.Legend(f"Answer to question {number}"),
                dcc.RadioItems(id={"type": "checklist-answer", "q": qid}, value=item["answer"],
                               options=[{"label": ANSWER_LABELS[a], "value": a} for a in checklist.ANSWERS],
                               inline=True, className="checklist-answer"),
            ], className="checklist-fieldset"),
            html.Label([
                html.Span(f"Note on question {number} (what the evidence shows, what is to be done)"),
                dcc.Textarea(id={"type": "checklist-note", "q": qid}, value=item["note"], maxLength=2000,
                             className="checklist-note"),
            ], className="checklist-note-label"),
            html.Button(f"Save answer {number}", id={"type": "checklist-save", "q": qid}, n_clicks=0,
                        className="button"),
        ]
    else:
        controls = [html.P(f"Answer: {ANSWER_LABELS[item['answer']]}"), html.P(item["note"] or "No note.")]
    return html.Section([
        html.H2(f"{number}. {item['question']}", id=f"checklist-q-{qid}"),
        html.P(f"Guidance: {item['guidance']}.", className="chart-description"),
        html.P("Evidence in mfhc:", className="chart-description"), evidence,
        *controls,
        html.P(answered_line(item), id={"type": "checklist-status", "q": qid}, className="data-note",
               **{"aria-live": "polite"}),
    ], className="chart-card checklist-item", **{"aria-labelledby": f"checklist-q-{qid}"})


def layout(**_query) -> html.Div:
    may_answer = data.viewer().role in ANSWERING_ROLES
    items = checklist.checklist(_settings())
    return html.Div([
        html.H1("Board checklist"),
        html.P("The statutory guidance (DfE, January 2014, Annex A) gives local authorities a checklist. The board "
               "answers each question here, with a note, and each links to the figures that evidence it. Every "
               "answer is kept with who gave it and when, and the latest answers are printed in the board pack."
               + ("" if may_answer else " Board members, managers and administrators answer; analysts read.")),
        *[question_card(number, item, may_answer) for number, item in enumerate(items, start=1)],
    ])


@callback(
    Output({"type": "checklist-status", "q": MATCH}, "children"),
    Input({"type": "checklist-save", "q": MATCH}, "n_clicks"),
    State({"type": "checklist-answer", "q": MATCH}, "value"),
    State({"type": "checklist-note", "q": MATCH}, "value"),
    State({"type": "checklist-save", "q": MATCH}, "id"),
    prevent_initial_call=True,
)
def save_answer(n_clicks, answer, note, button_id):
    if not n_clicks:
        return no_update
    who = data.viewer()
    if who.role not in ANSWERING_ROLES:
        raise data.AccessDenied("the checklist is answered by board members, managers and administrators")
    try:
        saved = checklist.record_answer(str(button_id.get("q")), str(answer), str(note or ""), who.name, _settings())
    except checklist.ChecklistError as exc:
        return f"Not saved: {exc}."
    if flask.has_request_context():
        from dashboard import auth

        auth.record("checklist_answered", what=saved["question_id"], answer=saved["answer"])
    return answered_line(saved)
