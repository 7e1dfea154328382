"""The built web UI is served at / with a single-page-app fallback; API paths never fall back."""

import pytest


@pytest.fixture
def dist(tmp_path):
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<html>avocet</html>")
    (root / "assets" / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("no")
    return root


def test_serves_files_and_falls_back_to_index(make_client, dist):
    client = make_client(web_dist=dist)
    assert client.get("/").text == "<html>avocet</html>"
    assert client.get("/assets/app.js").text == "console.log(1)"
    assert client.get("/jobs/123").text == "<html>avocet</html>"  # a client-side route
    assert client.get("/../secret.txt").text != "no"
    assert client.get("/%2e%2e/secret.txt").text != "no"
    api_miss = client.get("/api/nope")
    assert api_miss.status_code == 404 and "detail" in api_miss.json()
    assert client.get("/api/health").status_code == 200


def test_without_a_build_the_root_says_how_to_build(make_client, tmp_path):
    response = make_client(web_dist=tmp_path / "missing").get("/")
    assert response.status_code == 404 and "npm run build" in response.json()["detail"]


def test_no_page_can_be_framed_and_the_app_runs_under_a_strict_policy(make_client, dist):
    """Issue 16, item 5: with no token, another site could frame /models/<name> and trick a click on Delete."""
    client = make_client(web_dist=dist)
    for path in ("/", "/models/m", "/assets/app.js", "/api/health", "/api/jobs", "/api/nope", "/docs", "/openapi.json"):
        response = client.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        assert response.headers["x-content-type-options"] == "nosniff", path
    app_policy = client.get("/models/m").headers["content-security-policy"]
    assert "script-src 'self'" in app_policy and "unsafe-inline" not in app_policy and "unsafe-eval" not in app_policy
    assert "default-src 'none'" in client.get("/api/jobs").headers["content-security-policy"]
    refused = client.get("/api/health", headers={"host": "evil.example"})  # a refusal gets them too
    assert refused.status_code == 400 and refused.headers["x-frame-options"] == "DENY"
