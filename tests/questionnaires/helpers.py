"""Small builders for questionnaire tests (pure: no app, no database)."""
import copy


def t(zh: str, en: str | None = None) -> dict:
    return {"zh": zh, "en": en or zh}


def choice(key: str, scores=(0, 1, 2, 3), *, qtype: str = "single", **extra) -> dict:
    return {"key": key, "type": qtype, "text": t(key), "required": True,
            "options": [{"code": str(s), "label": t(str(s)), "score": s} for s in scores], **extra}


def defn(*questions, scores=None, flags=None, sections=None) -> dict:
    return {
        "key": "demo", "version": 1, "kind": "survey", "title": t("演示", "Demo"), "source": "test",
        "sections": sections or [{"key": "main", "title": t("主", "Main"), "show_if": None,
                                  "questions": list(questions)}],
        "scores": scores or [], "flags": flags or [],
    }


def answers_for(d: dict, codes: dict) -> dict:
    return copy.deepcopy(codes)
