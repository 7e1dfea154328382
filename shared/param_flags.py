"""Command-line flags built from the one declaration of a fine-tune's hyperparameters (shared/job_schema.py), the
idea of transformers' HfArgumentParser: both CLIs (`python -m worker.training`, `avocet jobs submit`) take the same
flags with the same names as the API fields (`max_tokens` -> `--max-tokens`), so a new hyperparameter is one line."""

import argparse
from typing import Any, Literal, get_args, get_origin

from shared.job_schema import Hyperparameters


def flag_of(field: str) -> str:
    return f"--{field.replace('_', '-')}"


def add_hyperparameter_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per Hyperparameters field, defaulting to None (unset: the server's default applies); ranges are
    checked by the model, not here."""
    for name, field in Hyperparameters.model_fields.items():
        kind = field.annotation
        if get_origin(kind) is not Literal:  # X | None: the X
            kind = next((t for t in get_args(kind) or (kind,) if t is not type(None)), str)
        default = "the base model's" if field.default is None else field.default
        help_text = f"{field.description} (default {default})"
        if kind is bool:
            parser.add_argument(flag_of(name), action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif get_origin(kind) is Literal:
            parser.add_argument(flag_of(name), choices=get_args(kind), help=help_text)
        else:
            parser.add_argument(flag_of(name), type=kind, help=help_text)


def given_hyperparameters(args: argparse.Namespace) -> dict[str, Any]:
    """The hyperparameter flags that were set, keyed by field name."""
    return {name: getattr(args, name) for name in Hyperparameters.model_fields if getattr(args, name, None) is not None}
