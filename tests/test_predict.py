def test_smoke(make_client):
    c = make_client()
    r = c.get("/api/models")
    print(r.status_code, r.text[:200])
