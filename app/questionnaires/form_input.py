"""Reading a filled-in questionnaire form into an answers dict (the
definition module cleans and checks it)."""
from app.questionnaires import definition as definitions


def answers_from_form(defn: dict, form) -> dict:
    """Radio, checkbox and field names are the question keys; a matrix row is ``question.row``."""
    answers: dict = {}
    for _section, question in definitions.iter_questions(defn):
        key, kind = question["key"], question["type"]
        if kind == "multiple":
            chosen = [v for v in form.getlist(key) if v]
            if chosen:
                answers[key] = chosen
        elif kind == "matrix":
            rows = {row["key"]: form.get(f"{key}.{row['key']}", "") for row in question.get("rows", [])}
            rows = {k: v for k, v in rows.items() if v}
            if rows:
                answers[key] = rows
        else:
            value = (form.get(key) or "").strip()
            if value:
                answers[key] = value
    return answers
