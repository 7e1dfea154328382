"""The canonical label set and parsing of label lists given on the command line or in the environment."""

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


def parse_labels(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """Turn "a, b,c" or a list into a clean list of unique labels, order kept."""
    items = value.split(",") if isinstance(value, str) else list(value)
    labels: list[str] = []
    for item in (str(i).strip() for i in items):
        if item and item not in labels:
            labels.append(item)
    if not labels:
        raise ValueError("the label list is empty: give at least two comma-separated labels, e.g. --labels a,b")
    return labels
