"""Error pages use the site's layout (DEBUG is off in tests)."""


def test_a_missing_page_is_a_friendly_404(client, user):
    client.force_login(user)
    response = client.get("/connections/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Not found" in html
    assert "workspace you are not a member of" in html
