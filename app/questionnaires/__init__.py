"""Questionnaires, intake forms and satisfaction surveys (问卷调查, 问诊表, 满意度调查)."""
