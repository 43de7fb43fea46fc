"""How the authoring pages name item types and quiz settings: msgids for the codes files and forms carry (pure).

The codes stay the values a form sends and a file holds; only what the author reads is translated.
"""

from __future__ import annotations

from ibm_lms.markers import N_

ITEM_TYPES = {
    "single_choice": N_("Single choice"),
    "multiple_response": N_("Multiple response"),
    "true_false": N_("True or false"),
    "matching": N_("Matching"),
    "ordering": N_("Ordering"),
    "numeric": N_("Numeric answer"),
    "short_answer": N_("Short answer"),
    "cloze": N_("Gaps in a text (cloze)"),
    "scenario": N_("Scenario"),
    "dilemma": N_("Integrity dilemma"),
    "risk_rating": N_("Risk rating"),
    "mrz_check": N_("Reading a machine-readable zone (MRZ)"),
    "mrz_spot": N_("Spotting the altered MRZ"),
}
KINDS = {
    "practice": N_("Practice quiz"),
    "pre_test": N_("Pre-test: what you know before the course"),
    "post_test": N_("Post-test: what you learnt"),
    "exam": N_("Final exam"),
}
GRADING = {
    "highest": N_("Highest grade"),
    "last": N_("Last attempt"),
    "average": N_("Average of attempts"),
    "first": N_("First attempt"),
}
REVIEW_LEVELS = {
    "score": N_("The score only"),
    "feedback": N_("Score, right or wrong, and feedback"),
    "answers": N_("Score, feedback and the right answers"),
}
DIFFICULTIES = {"easy": N_("Easy"), "medium": N_("Medium"), "hard": N_("Hard")}
# The parts of a definition that hold texts, as the translation page names them ("Option 3 › Text").
TEXT_PARTS = {
    "title": N_("Title"),
    "prompt": N_("Question"),
    "feedback": N_("Feedback"),
    "feedback_true": N_("Feedback if true"),
    "feedback_false": N_("Feedback if false"),
    "options": N_("Option"),
    "text": N_("Text"),
    "consequence": N_("Consequence"),
    "items": N_("Item to order"),
    "pairs": N_("Pair"),
    "match": N_("Matching answer"),
    "distractors": N_("Extra answer (distractor)"),
    "parts": N_("Scenario part"),
    "gaps": N_("Gap"),
    "case": N_("Case description"),
    "dimensions": N_("Dimension"),
    "label": N_("Label"),
    "reasoning": N_("Reasoning"),
    "specimens": N_("Specimen"),
    "description": N_("Description"),
}
