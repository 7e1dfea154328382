"""The canonical label set, and comma lists given on the command line, in a query string or in the environment:
split here, once (labels, classifier names, allowed hosts)."""

CANONICAL_LABELS: tuple[str, ...] = (
    "interview_scheduled",
    "offer_received",
    "rejected",
    "positive_response",
    "survey_received",
    "neutral",
    "event_rescheduled",
    "unrelated",
    "digest",
    "new_lead",
)


def split_list(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """Split "a, b,,c" (or a list of strings) into ["a", "b", "c"]: parts stripped, empty ones dropped, order kept."""
    items = value.split(",") if isinstance(value, str) else value
    return [part for part in (str(item).strip() for item in items) if part]


def parse_labels(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """Turn "a, b,c" or a list into a clean list of unique labels, order kept."""
    labels = list(dict.fromkeys(split_list(value)))
    if not labels:
        raise ValueError("the label list is empty: give at least two comma-separated labels, e.g. --labels a,b")
    return labels
