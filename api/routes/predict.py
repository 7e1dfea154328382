"""Classify emails with a published model: POST /api/models/{name}/predict (engine: api/predictor.py).

curl -X POST localhost:8000/api/models/minilm/predict -H 'content-type: application/json' \
     -d '{"emails": [{"subject": "Interview on Tuesday", "body": "Can you join us at 10:00?"}], "top_k": 3}'

The same text and model as FineTunedAdapter, so the same labels. The first predict of a model loads it (seconds);
later ones reuse it. A full queue answers 503 with Retry-After at once.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from shared.model_refs import ModelNotFound
from api.predictor import Overloaded, Predictor
from api.routes.models import ModelName

router = APIRouter(prefix="/api/models", tags=["models"])
MAX_EMAILS = 256


class EmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(max_length=2000)
    body: str = Field(max_length=20000)


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    emails: list[EmailIn] = Field(min_length=1, max_length=MAX_EMAILS)
    top_k: int = Field(3, ge=1, le=20, description="Labels listed per email (at most the model's label count).")
    version: int | None = Field(None, ge=1, le=1_000_000, description="A kept version; default the current one.")


class LabelScore(BaseModel):
    label: str
    score: float


class Prediction(LabelScore):
    top: list[LabelScore]


class PredictResponse(BaseModel):
    model: str
    version: int
    labels: list[str]
    predictions: list[Prediction]


async def get_predictor(request: Request) -> Predictor:
    """The app's predictor, made on first use (so an API that never predicts never loads torch). Async and reading
    app.state directly (what SettingsDep returns), so it runs on the event loop without a thread hop per request and
    two first requests cannot both make one."""
    state = request.app.state
    if getattr(state, "predictor", None) is None:
        state.predictor = Predictor(state.settings)
    return state.predictor


PredictorDep = Annotated[Predictor, Depends(get_predictor)]
RESPONSES = {
    404: {"description": "No such model or version"},
    503: {"description": "Too many predict requests waiting: retry after the Retry-After header's seconds"},
}


@router.post("/{name}/predict", response_model=PredictResponse, responses=RESPONSES)
async def predict(name: ModelName, body: PredictRequest, predictor: PredictorDep) -> dict:
    """Per email: the label, its probability and the top_k labels with theirs, from the current (or given) version."""
    emails = [(email.subject, email.body) for email in body.emails]
    try:
        result = await predictor.predict(name, body.version, emails, body.top_k)
    except ModelNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except Overloaded as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    return result  # validated once, by response_model
