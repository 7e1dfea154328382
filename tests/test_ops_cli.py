"""The `avocet` ops CLI against a fake API (httpx.MockTransport, in process): request bodies, output, and the exit
codes 0 succeeded / 1 failed / 2 bad input / 3 cancelled / 4 unreachable or refused / 130 Ctrl-C."""

import io
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from avocet_cli import follow as follow_module
from avocet_cli.client import ApiClient, parse_sse
from avocet_cli.format import Output
from avocet_cli.main import main
from devtools.redis_server import free_port

JOB_ID = "7d7c3c4e-0000-4000-8000-000000000001"


def _job(**fields):
    return {"id": JOB_ID, "kind": "finetune", "model": "minilm", "epochs": 1, "name": None, "state": "queued",
            "submitted_at": "2026-01-01T10:00:00+00:00", "queue_position": 1, "progress": None, "result": None,
            "error": None, "last_event_id": 1, "source": "api", **fields}  # fmt: skip


def _event(id_, type_, message="", **data):
    return {"id": id_, "ts": f"2026-01-01T10:00:{id_:02d}+00:00", "type": type_, "message": message, "data": data}


def _sse(events, comment=True):
    frames = [b": ping\r\n\r\n"] if comment else []
    frames += [f"id: {e['id']}\r\ndata: {json.dumps(e)}\r\n\r\n".encode() for e in events]
    return frames


RUN = [_event(1, "queued", "queued"), _event(2, "started", "started on worker w"),
       _event(3, "progress", "step 1/2", epoch=0.5, step=1, total=2, loss=1.5,
              estimated_finish="2026-01-01T10:01:33+00:00"),
       _event(4, "eval", "epoch 1", epoch=1.0, step=2, total=2, f1=0.75, accuracy=0.8)]  # fmt: skip


class FakeApi:
    """Routes a handful of contract paths; `streams` is a list of SSE answers (frames or a status) taken in turn."""

    def __init__(self, job=None, streams=(), routes=None):
        self.job = job or _job()
        self.streams = list(streams)
        self.routes = routes or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = f"{request.method} {request.url.path}"
        if key in self.routes:
            answer = self.routes[key]
            return answer(request) if callable(answer) else answer
        if key == f"GET /api/jobs/{JOB_ID}/events":
            answer = self.streams.pop(0)
            if isinstance(answer, int):
                return httpx.Response(answer)
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=iter(answer))
        if key == f"GET /api/jobs/{JOB_ID}":
            return httpx.Response(200, json=self.job)
        if key == "POST /api/finetune/jobs":
            return httpx.Response(202, json=self.job)
        return httpx.Response(404, json={"detail": "Not Found"})

    def bodies(self, key):
        return [json.loads(r.content) for r in self.requests if f"{r.method} {r.url.path}" == key]


def run(api, argv, token=None):
    return main(argv, client=ApiClient("http://api.test", token, transport=httpx.MockTransport(api)))


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr(follow_module.time, "sleep", lambda s: None)


def test_submit_follow_succeeded_exits_0_and_sends_flags_as_the_contract_names_them(capsys):
    api = FakeApi(streams=[_sse([*RUN, _event(5, "complete", "published avocet-x", name="x")])])
    argv = ["jobs", "submit", "--model", "minilm", "--epochs", "1", "--dataset", "ds-1", "--labels", "a, b",
            "--name", "x", "--learning-rate", "3e-5", "--batch-size", "8", "--early-stopping-patience", "2", "--follow"]  # fmt: skip
    assert run(api, argv) == 0
    assert api.bodies("POST /api/finetune/jobs") == [{
        "model": "minilm", "epochs": 1, "data": "ds-1", "labels": ["a", "b"], "name": "x",
        "hyperparameters": {"learning_rate": 3e-05, "batch_size": 8, "early_stopping_patience": 2}}]  # fmt: skip
    out = capsys.readouterr().out
    assert f"job {JOB_ID} queued (position 1)" in out and "[started] started on worker w" in out
    assert "[progress] [" in out and "step 1/2" in out and "loss 1.5000" in out  # one line per update, no \r
    assert "eta 1m30s" in out  # the server's estimated_finish, 90 s after the event that carried it
    assert "[eval] epoch 1" in out and "\r" not in out
    assert len(out.splitlines()) == 6  # the job, one line per event, the outcome
    assert out.splitlines()[-1] == f"job {JOB_ID} succeeded: published avocet-x"


@pytest.mark.parametrize(("state", "code"), [("failed", 1), ("cancelled", 3)])
def test_follow_ends_non_zero_with_the_reason_when_the_job_fails_or_is_cancelled(capsys, state, code):
    end = _event(5, "error", "data file not found: nope.jsonl", state=state, reason="bad_input")
    api = FakeApi(streams=[_sse([*RUN, end])])
    assert run(api, ["jobs", "logs", JOB_ID, "--follow"]) == code
    err = capsys.readouterr().err
    assert f"job {JOB_ID} {state} (bad_input): data file not found: nope.jsonl" in err


def test_follow_resumes_with_last_event_id_after_a_dropped_connection(capsys):
    def dropped():
        yield from _sse(RUN[:3])
        raise httpx.ReadError("connection reset")

    api = FakeApi(streams=[dropped(), _sse([RUN[3], _event(5, "complete", "done")])])
    assert run(api, ["jobs", "logs", JOB_ID, "--follow", "--json"]) == 0
    sent = [r.headers["Last-Event-ID"] for r in api.requests if r.url.path.endswith("/events")]
    assert sent == ["0", "3"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["id"] for e in lines] == [1, 2, 3, 4, 5]  # each event once, in order


def test_a_204_stream_ends_with_the_job_record_and_its_structured_error(capsys):
    job = _job(state="failed", error={"code": "worker_lost", "message": "the worker stopped answering"})
    api = FakeApi(job=job, streams=[204])
    assert run(api, ["jobs", "logs", JOB_ID, "--follow", "--after", "9"]) == 1
    assert "failed: the worker stopped answering (worker_lost)" in capsys.readouterr().err


def test_ctrl_c_while_following_exits_130_and_says_how_to_follow_again(capsys):
    def interrupted():
        yield from _sse(RUN[:3])
        raise KeyboardInterrupt

    api = FakeApi(streams=[interrupted()])
    assert run(api, ["jobs", "submit", "--follow"]) == 130
    err = capsys.readouterr().err
    assert "keeps running" in err and f"avocet jobs logs {JOB_ID} --follow" in err
    assert not [r for r in api.requests if r.url.path.endswith("/cancel")]


def test_wait_prints_no_log_and_exits_like_follow(capsys):
    running = _job(state="running", last_event_id=4, queue_position=None)
    api = FakeApi(job=running, streams=[_sse([_event(5, "error", "cancelled by request", state="cancelled")])])
    assert run(api, ["jobs", "wait", JOB_ID]) == 3
    captured = capsys.readouterr()
    assert captured.out == "" and "cancelled" in captured.err
    assert [r.headers["Last-Event-ID"] for r in api.requests if r.url.path.endswith("/events")] == ["4"]
    api = FakeApi(job=_job(state="succeeded", result={"val_macro_f1": 0.9}))
    assert run(api, ["jobs", "wait", JOB_ID]) == 0  # already ended: no stream opened
    assert not [r for r in api.requests if r.url.path.endswith("/events")]


def test_a_422_names_the_flag_and_the_message_and_exits_2(capsys):
    too_high = "Input should be less than or equal to 0.01"
    detail = [{"loc": ["body", "hyperparameters", "learning_rate"], "msg": too_high}]
    api = FakeApi(routes={"POST /api/finetune/jobs": httpx.Response(422, json={"detail": detail})})
    assert run(api, ["jobs", "submit", "--learning-rate", "5"]) == 2
    err = capsys.readouterr().err
    assert f"--learning-rate (hyperparameters.learning_rate): {too_high}" in err
    api = FakeApi(routes={"POST /api/finetune/jobs": httpx.Response(422, json={"detail": "no such data file"})})
    assert run(api, ["jobs", "submit"]) == 2
    assert "no such data file" in capsys.readouterr().err


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["jobs", "submit", "--epochs", "many"])
    assert exited.value.code == 2
    assert run(FakeApi(), ["jobs", "submit", "--kind", "benchmark", "--epochs", "3"]) == 2
    assert "--epochs apply to fine-tune jobs only" in capsys.readouterr().err


def test_benchmark_kind_posts_its_own_body():
    api = FakeApi(routes={"POST /api/benchmark/jobs": httpx.Response(202, json=_job(kind="benchmark"))})
    assert run(api, ["jobs", "submit", "--kind", "benchmark", "--models", "tfidf,minilm", "--dataset", "d"]) == 0
    assert api.bodies("POST /api/benchmark/jobs") == [{"data": "d", "models": ["tfidf", "minilm"]}]


def test_unreachable_api_and_refused_token_exit_4_and_say_what_to_set(capsys):
    closed = ApiClient(f"http://127.0.0.1:{free_port()}")
    assert main(["jobs", "list"], client=closed) == 4
    err = capsys.readouterr().err
    assert "cannot reach the Avocet API" in err and "set AVOCET_URL" in err
    refused = FakeApi(routes={"POST /api/finetune/jobs": httpx.Response(401, json={"detail": "needs the token"})})
    assert run(refused, ["jobs", "submit"]) == 4
    assert "set AVOCET_API_TOKEN" in capsys.readouterr().err
    assert run(refused, ["jobs", "submit"], token="wrong") == 4
    assert "refused AVOCET_API_TOKEN" in capsys.readouterr().err
    assert refused.requests[-1].headers["Authorization"] == "Bearer wrong"


def test_url_and_token_come_from_the_environment():
    client = ApiClient.from_env({"AVOCET_URL": "http://gpu-box:9000/", "AVOCET_API_TOKEN": "s3cret"})
    assert client.url == "http://gpu-box:9000" and client.token_set
    default = ApiClient.from_env({})
    assert default.url == "http://127.0.0.1:8000" and not default.token_set


def test_jobs_list_pages_with_x_next_before_and_handles_its_absence(capsys):
    jobs = [_job(), _job(id="older", state="succeeded", queue_position=None, result={"val_macro_f1": 0.8123})]
    paged = FakeApi(routes={"GET /api/jobs": httpx.Response(200, json=jobs, headers={"X-Next-Before": "older"})})
    assert run(paged, ["jobs", "list", "--kind", "finetune", "--limit", "2"]) == 0
    assert paged.requests[0].url.params == httpx.QueryParams({"kind": "finetune", "limit": "2"})
    captured = capsys.readouterr()
    assert "queued #1" in captured.out and "0.812" in captured.out
    assert "avocet jobs list --before older" in captured.err
    last = FakeApi(routes={"GET /api/jobs": httpx.Response(200, json=jobs)})
    assert run(last, ["jobs", "list", "--json"]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line)["id"] for line in captured.out.splitlines()] == [JOB_ID, "older"] and captured.err == ""


def test_logs_read_the_log_route_in_pages(capsys):
    pages = iter([{"events": RUN[:2], "next_after": 2, "has_more": True},
                  {"events": RUN[2:], "next_after": 4, "has_more": False}])  # fmt: skip
    api = FakeApi(routes={f"GET /api/jobs/{JOB_ID}/log": lambda r: httpx.Response(200, json=next(pages))})
    assert run(api, ["jobs", "logs", JOB_ID]) == 0
    assert [r.url.params["after"] for r in api.requests] == ["0", "2"]
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_logs_fall_back_to_the_event_stream_up_to_the_last_event_when_there_is_no_log_route(capsys):
    api = FakeApi(job=_job(state="running", last_event_id=3), streams=[_sse(RUN)])  # the stream would go on
    assert run(api, ["jobs", "logs", JOB_ID, "--json"]) == 0
    types = [json.loads(line)["type"] for line in capsys.readouterr().out.splitlines()]
    assert types == ["queued", "started", "progress"]


def test_cancel_of_an_ended_job_is_exit_2_with_the_server_words(capsys):
    api = FakeApi(routes={f"POST /api/jobs/{JOB_ID}/cancel": httpx.Response(409, json={"detail": "already ended"})})
    assert run(api, ["jobs", "cancel", JOB_ID]) == 2
    assert "already ended" in capsys.readouterr().err


def test_show_prints_the_record_and_404_is_exit_2(capsys):
    progress = {"step": 3, "total": 10, "epoch": 0.3, "loss": 0.9}
    finish = "2026-01-01T10:05:00+00:00"
    api = FakeApi(
        job=_job(state="running", progress=progress, hyperparameters={"batch_size": 16}, estimated_finish=finish)
    )
    assert run(api, ["jobs", "show", JOB_ID]) == 0
    out = capsys.readouterr().out
    assert "step 3/10" in out and "batch_size=16" in out and "estimated finish" in out
    assert run(FakeApi(), ["jobs", "show", "missing"]) == 2


def test_progress_bar_redraws_in_place_on_a_terminal():
    screen = io.StringIO()
    out = Output(screen, io.StringIO(), tty=True)
    api = FakeApi(streams=[_sse([*RUN, _event(5, "complete", "done")])])
    client = ApiClient("http://api.test", transport=httpx.MockTransport(api))
    assert follow_module.follow(client, out, JOB_ID) == 0
    text = screen.getvalue()
    assert "\r[############............]  50%  step 1/2" in text
    assert "[eval] epoch 1" in text and text.endswith(f"job {JOB_ID} succeeded: done\n")


def test_datasets_upload_sends_the_file_and_lists_bad_lines_on_422(tmp_path, capsys):
    path = tmp_path / "mine.jsonl"
    path.write_text('{"subject": "s", "body": "b", "label": "x"}\n')
    created = {"id": "ds-1", "name": "mine", "sha256": "ab" * 32, "size_bytes": 2048, "rows": 1,
               "labels": {"x": 1}, "created_at": "2026-01-01T10:00:00+00:00", "source": "upload"}  # fmt: skip
    api = FakeApi(routes={"POST /api/datasets": httpx.Response(201, json=created)})
    assert run(api, ["datasets", "upload", str(path), "--name", "mine"]) == 0
    sent = api.requests[0]
    assert sent.headers["content-type"].startswith("multipart/form-data")
    assert b'name="file"; filename="mine.jsonl"' in sent.content and b'"label": "x"' in sent.content
    assert b'name="name"\r\n\r\nmine' in sent.content and sent.url.params["name"] == "mine"
    assert "dataset ds-1 mine: 1 rows, 2.0 KB" in capsys.readouterr().out
    bad = {"message": "2 lines are not labelled emails", "errors": [{"line": 3, "problem": "no label"}]}
    api = FakeApi(routes={"POST /api/datasets": httpx.Response(422, json={"detail": bad})})
    assert run(api, ["datasets", "upload", str(path)]) == 2
    assert "line 3: no label" in capsys.readouterr().err
    assert run(api, ["datasets", "upload", str(tmp_path / "absent.jsonl")]) == 2


def test_models_list_predict_and_rollback(tmp_path, capsys):
    emails = tmp_path / "emails.jsonl"
    emails.write_text('{"subject": "Interview", "body": "Tuesday?", "label": "ignored"}\n\n{"body": "hi"}\n')
    answer = {"model": "minilm", "version": 2, "predictions": [
        {"label": "interview_scheduled", "score": 0.9, "top": [{"label": "interview_scheduled", "score": 0.9},
                                                               {"label": "neutral", "score": 0.05}]},
        {"label": "neutral", "score": 0.6, "top": [{"label": "neutral", "score": 0.6}]}]}  # fmt: skip
    models = [{"name": "minilm", "current_version": 2, "base_model": "minilm", "val_macro_f1": 0.81,
               "val_accuracy": 0.85, "timestamp": "2026-01-01T10:00:00+00:00", "versions": 2}]  # fmt: skip
    rolled_back = {**models[0], "current_version": 1}
    api = FakeApi(routes={"POST /api/models/minilm/predict": httpx.Response(200, json=answer),
                          "GET /api/models": httpx.Response(200, json=models),
                          "POST /api/models/minilm/rollback": httpx.Response(200, json=rolled_back)})  # fmt: skip
    assert run(api, ["models", "predict", "minilm", "--file", str(emails), "--version", "2"]) == 0
    sent = [{"subject": "Interview", "body": "Tuesday?"}, {"subject": "", "body": "hi"}]
    assert api.bodies("POST /api/models/minilm/predict") == [{"emails": sent, "top_k": 3, "version": 2}]
    out = capsys.readouterr().out
    assert "interview_scheduled 0.900  'Interview'  (then neutral 0.050)" in out
    assert run(api, ["models", "list"]) == 0 and "0.810" in capsys.readouterr().out
    assert run(api, ["models", "rollback", "minilm", "--version", "1"]) == 0
    assert api.bodies("POST /api/models/minilm/rollback") == [{"version": 1}]
    assert "now serves version 1" in capsys.readouterr().out
    assert run(api, ["models", "predict", "minilm", "--subject", "s", "--file", str(emails)]) == 2


def test_parse_sse_skips_comments_and_retry_and_joins_data_lines():
    lines = [": keep-alive", "retry: 2000", "id: 7", 'data: {"type": "log",', 'data: "message": "x"}', ""]
    assert list(parse_sse(iter(lines))) == [{"type": "log", "message": "x", "id": 7}]


def test_the_console_script_is_installed():
    script = Path(sys.executable).parent / "avocet"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "exit codes" in done.stdout


def _one_line_exit_2(capsys, code):
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1 and err.startswith("avocet: "), err
    return err


def test_a_predict_file_that_is_not_utf8_is_exit_2_with_one_line(tmp_path, capsys):
    """Issue 16, item 12: a latin-1 file, an unreadable upload, a non-JSON 2xx answer ended in a traceback, exit 1."""
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes('{"subject": "Caf\u00e9", "body": "r\u00e9union"}\n'.encode("latin-1"))
    err = _one_line_exit_2(capsys, run(FakeApi(), ["models", "predict", "m", "--file", str(latin1)]))
    assert "UTF-8" in err and str(latin1) in err


def test_an_unreadable_file_is_exit_2_with_one_line(capsys):
    unreadable = "/proc/self/mem"  # a regular file whose read fails (EIO), even for root
    for argv in (["datasets", "upload", unreadable], ["models", "predict", "m", "--file", unreadable]):
        err = _one_line_exit_2(capsys, run(FakeApi(), argv))
        assert unreadable in err and "cannot read" in err


def test_a_non_json_success_answer_is_exit_2_with_one_line(capsys):
    api = FakeApi(routes={"GET /api/models": httpx.Response(200, text="<html>a proxy's page</html>")})
    err = _one_line_exit_2(capsys, run(api, ["models", "list"]))
    assert "not JSON" in err and "AVOCET_URL" in err
