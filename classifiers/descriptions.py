"""Label descriptions for the zero-shot adapters: defaults for the canonical labels, the label's own words otherwise.

A zero-shot model only knows a class by what it is told about it, so "event_rescheduled" reads better as a sentence;
for label sets without defaults (e.g. the dev set's newsgroup topics) the label name itself ("for_sale" -> "for sale")
is a fair description. Callers may override any entry.
"""

import json
from pathlib import Path

DEFAULT_DESCRIPTIONS: dict[str, str] = {
    "interview_scheduled": "an invitation to, or confirmation of, an interview at a set date and time",
    "offer_received": "a job offer or offer letter with salary and start date",
    "rejected": "a rejection saying an application will not go any further",
    "positive_response": "a positive, interested reply to a proposal or an outreach",
    "survey_received": "a request to fill in a feedback survey or rating",
    "neutral": "a short neutral note, acknowledgement or general announcement",
    "event_rescheduled": "a meeting or interview moved to a new date or time",
    "unrelated": "an automated account, shipping or password notification",
    "digest": "a newsletter or weekly digest of news and posts",
    "new_lead": "a new customer inquiry or request for a quote for services",
}


def describe(label: str, overrides: dict[str, str] | None = None) -> str:
    if overrides and label in overrides:
        return overrides[label]
    return DEFAULT_DESCRIPTIONS.get(label) or label.replace("_", " ").replace("-", " ").strip()


def label_descriptions(labels: list[str], overrides: dict[str, str] | None = None) -> list[str]:
    return [describe(label, overrides) for label in labels]


def read_descriptions(path: Path) -> dict[str, str]:
    """A JSON object {label: description}; raises ValueError with the fix when it is not one."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read label descriptions from {path}: {exc}") from exc
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"{path}: label descriptions must be one JSON object of label -> description strings")
    return value
