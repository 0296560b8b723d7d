"""Questionnaire definitions: the public face of the definition format.

A definition is plain JSON (one file per instrument in tenants/packs/questionnaires/, or built by an admin).
Nothing in the format touches the database; it is kept in modules by what they hold:

- schema.py: the vocabulary (kinds, question types, operators, keys) and walking a definition;
- branching.py: show_if conditions and which questions an answer set shows;
- validation.py: reading answers as their questions' types, cleaning and validating them;
- definition_check.py, score_check.py, problems.py: the structural check (sections, questions, conditions,
  flags; scoring declarations; how each problem names what it concerns);
- pack.py: the instruments shipped in the pack.

Modules of this package import from those modules directly; the names below are the ones most callers need.
"""
from app.questionnaires.branching import evaluate, visible_questions
from app.questionnaires.definition_check import check_definition, definition_problems
from app.questionnaires.pack import pack_definition, pack_definitions
from app.questionnaires.problems import Problem
from app.questionnaires.schema import iter_questions, questions_by_key
from app.questionnaires.validation import clean_answers, validate_answers

__all__ = [
    "Problem",
    "check_definition",
    "clean_answers",
    "definition_problems",
    "evaluate",
    "iter_questions",
    "pack_definition",
    "pack_definitions",
    "questions_by_key",
    "validate_answers",
    "visible_questions",
]
