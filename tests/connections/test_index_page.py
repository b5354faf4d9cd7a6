"""The connections page shows only the member's own workspaces."""


def test_a_member_sees_their_workspace_connections_only(client, world):
    client.force_login(world["alice"])
    html = client.get("/connections/").content.decode()
    assert "Acme production" in html
    assert "Globex production" not in html
