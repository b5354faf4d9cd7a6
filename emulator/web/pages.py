"""The login-and-consent page of the authorize endpoint, and the OAuth error page."""

from __future__ import annotations

from html import escape

from werkzeug.wrappers import Request, Response

from emulator.users import PASSWORD

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f3f3f3;margin:0}
main{max-width:440px;margin:48px auto;background:#fff;border-radius:8px;padding:28px 32px;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:20px;margin:0 0 4px}p.sub{color:#555;margin:0 0 20px;font-size:14px}
label{display:block;font-size:13px;color:#333;margin:14px 0 4px}
select,input{width:100%;box-sizing:border-box;padding:8px;border:1px solid #c9c9c9;
border-radius:4px;font-size:14px}
.scopes{background:#f7f9fb;border:1px solid #e1e5ea;border-radius:4px;padding:10px 12px;
margin-top:18px;font-size:13px}.scopes code{background:#e8edf3;padding:1px 4px;border-radius:3px}
.buttons{display:flex;gap:12px;margin-top:22px}
button{flex:1;padding:10px;border-radius:4px;font-size:15px;cursor:pointer;border:1px solid #0176d3}
button.allow{background:#0176d3;color:#fff}button.deny{background:#fff;color:#0176d3}
.error{color:#b00020;font-size:14px;margin-top:10px}footer{color:#777;font-size:12px;margin-top:18px}
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><meta name=viewport content='width=device-width'>"
        f"<style>{STYLE}</style></head><body><main>{body}</main></body></html>"
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def authorize_page(org, request: Request, scope: str, error: str | None) -> Response:
    """Pick an emulated user, then Allow or Deny; the form posts back to the same URL."""
    action = request.path + ("?" + request.query_string.decode() if request.query_string else "")
    chosen = (
        request.form.get("username") or request.args.get("login_hint") or org.user_list[0].username
    )
    options = "".join(
        f'<option value="{escape(u.username)}"{" selected" if u.username == chosen else ""}>'
        f"{escape(u.username)} — {escape(u.situation)}</option>"
        for u in org.user_list
    )
    scopes = " ".join(f"<code>{escape(s)}</code>" for s in scope.split())
    kind = "sandbox" if org.sandbox else "production"
    error_html = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<h1>Log in to {escape(org.org_name)}</h1>"
        f'<p class="sub">Salesforce org emulator ({kind}) — connected app '
        f"<code>{escape(org.auth.config.client_id)}</code> asks for access.</p>"
        f'<form method="post" action="{escape(action)}">'
        '<label for="username">Username</label>'
        f'<select id="username" name="username">{options}</select>'
        '<label for="password">Password</label>'
        f'<input id="password" name="password" type="password" value="{escape(PASSWORD)}">'
        f'<div class="scopes">Allow access to: {scopes}</div>'
        f"{error_html}"
        '<div class="buttons">'
        '<button class="allow" type="submit" name="action" value="allow">Allow</button>'
        '<button class="deny" type="submit" name="action" value="deny">Deny</button>'
        "</div></form>"
        "<footer>Every emulated user's password is <code>emulator</code>.</footer>"
    )
    return _page("Log in | Salesforce org emulator", body)


def error_page(error: str, description: str, status: int) -> Response:
    body = (
        "<h1>Authorization error</h1>"
        f'<p class="sub">error=<code>{escape(error)}</code></p><p>{escape(description)}</p>'
    )
    return _page("OAuth error", body, status)
