"""/favicon.ico answers (a browser asks for it on pages without a <link rel="icon">)."""


def test_the_favicon_is_served_without_logging_in(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
