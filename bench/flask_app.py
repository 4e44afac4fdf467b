"""The demo contract (shared/CONTRACT.md) built on Flask-Discord 0.1.69, for the side-by-side benchmark.

It uses Flask-Discord the way its own docs show: ``DiscordOAuth2Session(app)``, ``create_session``,
``callback`` then ``fetch_user`` in the callback view, ``fetch_user``/``fetch_guilds``/
``fetch_connections`` (which read its users cache first), ``User.add_to_guild`` (bot token),
``revoke`` and ``requires_authorization`` with an ``Unauthorized`` error handler.

Differences from the contract that Flask-Discord imposes (the app does what it can around them):
* Flask-Discord's URLs are module constants in ``flask_discord.configs`` (``discordapp.com/api``,
  unversioned). They are repointed here at DISCORD_BASE_URL before the session object is created;
  every use in the package reads them as ``configs.NAME`` at call time, so patching the module is enough.
  OAuth over plain http needs ``OAUTHLIB_INSECURE_TRANSPORT=1`` (set below, as its docs say).
* ``revoke()`` never calls Discord; the contract's logout revokes the token at Discord, so the
  logout view POSTs to ``{base}/api/v10/oauth2/token/revoke`` itself with ``requests``.
* With no pending state, Flask-Discord skips the state check (a login CSRF); the callback view
  answers 400 itself in that case, as the contract requires.
* The users cache is per gunicorn worker process (that is how Flask-Discord works).
* ``Integration`` crashes on ``"role_id": null`` (Discord's normal payload); a minimal patch below
  makes ``fetch_connections`` work instead of answering 502.

Configuration: the same environment variables as the demo (CONTRACT.md).
"""

import os

os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

from urllib.parse import urlsplit  # noqa: E402

import requests  # noqa: E402
from flask import Flask, jsonify, redirect, request, session  # noqa: E402
from oauthlib.oauth2.rfc6749.errors import MismatchingStateError, OAuth2Error  # noqa: E402

import flask_discord  # noqa: E402
from flask_discord import configs as fd_configs  # noqa: E402
from flask_discord import (  # noqa: E402
    AccessDenied,
    DiscordOAuth2Session,
    HttpException,
    RateLimited,
    Unauthorized,
    requires_authorization,
)

assert flask_discord.__version__ == "0.1.69", flask_discord.__version__

BASE = os.environ.get("DISCORD_BASE_URL", "https://discord.com").rstrip("/")
CDN = os.environ.get("DISCORD_CDN_URL", "https://cdn.discordapp.com").rstrip("/")
API = BASE + "/api/v10"
SCOPES = ["identify", "email", "guilds", "connections", "guilds.join"]


def _repoint_flask_discord():
    """Point Flask-Discord's hard-coded constants at DISCORD_BASE_URL / DISCORD_CDN_URL."""
    c = fd_configs
    c.DISCORD_API_BASE_URL = API
    c.DISCORD_AUTHORIZATION_BASE_URL = BASE + "/oauth2/authorize"
    c.DISCORD_TOKEN_URL = API + "/oauth2/token"
    c.DISCORD_IMAGE_BASE_URL = CDN + "/"
    c.DISCORD_EMBED_BASE_BASE_URL = CDN + "/"
    c.DISCORD_USER_AVATAR_BASE_URL = c.DISCORD_IMAGE_BASE_URL + "avatars/{user_id}/{avatar_hash}.{format}"
    c.DISCORD_DEFAULT_USER_AVATAR_BASE_URL = c.DISCORD_EMBED_BASE_BASE_URL + "embed/avatars/{modulo5}.png"
    c.DISCORD_GUILD_ICON_BASE_URL = c.DISCORD_IMAGE_BASE_URL + "icons/{guild_id}/{icon_hash}.png"
    # Anything that imported a constant by name would keep the old value; check that nothing did.
    import sys

    for name, mod in list(sys.modules.items()):
        if not name.startswith("flask_discord") or mod is c:
            continue
        for attr in ("DISCORD_API_BASE_URL", "DISCORD_TOKEN_URL", "DISCORD_AUTHORIZATION_BASE_URL"):
            if hasattr(mod, attr):
                setattr(mod, attr, getattr(c, attr))


_repoint_flask_discord()


def _patch_integration_role_id():
    """Flask-Discord bug B15: ``Integration`` does ``int(payload.get("role_id", 0))``, and Discord
    sends ``"role_id": null`` for most integrations, so ``fetch_connections()`` raises ``TypeError``
    for any user with such a connection (the fake's seed user alice.dev, from Discord's own example
    payload). Without this one-line fix the Flask app answers 502 on ``/connections`` for that user;
    with it, Flask-Discord's connections cache works as designed (the best case for it).
    """
    from flask_discord.models import integration

    original = integration.Integration.__init__

    def __init__(self, payload):
        if isinstance(payload, dict) and payload.get("role_id") is None:
            payload = {**payload, "role_id": 0}
        original(self, payload)

    integration.Integration.__init__ = __init__


_patch_integration_role_id()

app = Flask(__name__)
app.secret_key = os.environ.get("SECRET_KEY") or os.urandom(32)
app.config["DISCORD_CLIENT_ID"] = os.environ["DISCORD_CLIENT_ID"]
app.config["DISCORD_CLIENT_SECRET"] = os.environ["DISCORD_CLIENT_SECRET"]
app.config["DISCORD_REDIRECT_URI"] = os.environ["DISCORD_REDIRECT_URI"]
app.config["DISCORD_BOT_TOKEN"] = os.environ.get("DISCORD_BOT_TOKEN", "")
app.config["DISCORD_USERS_CACHE_MAX_LIMIT"] = int(os.environ.get("DISCORD_USERS_CACHE_MAX_LIMIT", "100"))

discord = DiscordOAuth2Session(app)


def _error(status, message, **headers):
    resp = jsonify({"error": message})
    resp.status_code = status
    for k, v in headers.items():
        resp.headers[k.replace("_", "-")] = v
    return resp


def _is_discord_error(payload):
    """Flask-Discord returns error bodies as data (only 401/429 raise): recognise them."""
    return isinstance(payload, dict) and "code" in payload and "message" in payload and "id" not in payload


@app.errorhandler(Unauthorized)
def _unauthorized(_e):
    return _error(401, "unauthorized")


@app.errorhandler(RateLimited)
def _rate_limited(e):
    retry = e.json.get("retry_after", 1) if isinstance(e.json, dict) else 1
    return _error(503, "rate limited by Discord", Retry_After=str(max(1, int(float(retry) + 0.999))))


@app.errorhandler(requests.RequestException)
def _upstream_down(_e):
    return _error(502, "Discord unreachable")


@app.errorhandler(KeyError)
@app.errorhandler(TypeError)
@app.errorhandler(ValueError)
def _malformed(_e):
    # Flask-Discord turns error bodies into model crashes (KeyError/TypeError): an upstream failure.
    return _error(502, "unexpected answer from Discord")


@app.before_request
def _same_site_posts_only():
    if request.method == "POST":
        site = request.headers.get("Sec-Fetch-Site")
        origin = request.headers.get("Origin")
        if site is not None and site not in ("same-origin", "none"):
            return _error(403, "cross-site request")
        if origin is not None and urlsplit(origin).netloc != request.host:
            return _error(403, "cross-site request")
    return None


@app.get("/health")
def health():
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/")
def index():
    if not discord.authorized:
        return '<!doctype html><title>demo</title><a href="/login">Login with Discord</a>'
    user = discord.fetch_user()
    guilds = discord.fetch_guilds()
    avatar = user.avatar_url or user.default_avatar_url
    items = "".join(f"<li>{g.name}</li>" for g in guilds)
    return (
        f'<!doctype html><title>demo</title><img src="{avatar}" alt=""> {user.name}'
        f'<ul>{items}</ul><form method="post" action="/logout"><button>Logout</button></form>'
    )


@app.get("/login")
def login():
    nxt = request.args.get("next", "/")
    if not (nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt):
        nxt = "/"
    return discord.create_session(scope=SCOPES, data={"next": nxt})


@app.get("/callback")
def callback():
    if request.args.get("error") == "access_denied":
        return _error(403, "access denied")
    if not session.get("DISCORD_OAUTH2_STATE") or not request.args.get("state"):
        # Flask-Discord would skip the state check here (login CSRF); refuse instead.
        return _error(400, "no pending login")
    try:
        data = discord.callback()
    except AccessDenied:
        return _error(403, "access denied")
    except MismatchingStateError:
        return _error(400, "state mismatch")
    except HttpException as e:
        return _error(400, str(e) or "oauth error")
    except OAuth2Error:
        return _error(502, "token exchange failed")
    # As in Flask-Discord's docs: fetch (and cache) the user right after the callback.
    discord.fetch_user()
    nxt = data.get("next", "/") if isinstance(data, dict) else "/"
    return redirect(nxt if isinstance(nxt, str) and nxt.startswith("/") and not nxt.startswith("//") else "/")


@app.get("/me")
@requires_authorization
def me():
    user = discord.fetch_user()
    raw = user.to_json()
    return jsonify(
        id=str(user.id),
        username=user.username,
        discriminator=user.discriminator,
        global_name=raw.get("global_name"),
        avatar_url=user.avatar_url or user.default_avatar_url,
        email=user.email,
    )


@app.get("/guilds")
@requires_authorization
def guilds():
    out = [
        {
            "id": str(g.id),
            "name": g.name,
            "icon_url": g.icon_url,
            "owner": bool(g.is_owner),
            "permissions": str(g.permissions.value) if g.permissions is not None else "0",
        }
        for g in discord.fetch_guilds()
    ]
    return jsonify(out)


@app.get("/connections")
@requires_authorization
def connections():
    out = [
        {"id": c.id, "name": c.name, "type": c.type, "verified": bool(c.verified), "visibility": c.visibility}
        for c in discord.fetch_connections()
    ]
    return jsonify(out)


@app.post("/guilds/<int:guild_id>/join")
@requires_authorization
def join(guild_id):
    if not app.config["DISCORD_BOT_TOKEN"]:
        return _error(503, "no bot token configured")
    user = discord.fetch_user()
    member = user.add_to_guild(guild_id)
    if _is_discord_error(member):
        return _error(502, f"Discord error {member.get('code')}")
    if member:
        return jsonify(member), 201
    return jsonify({}), 200


@app.post("/logout")
def logout():
    token = discord.get_authorization_token()
    if token and token.get("access_token"):
        # Flask-Discord's revoke() is local only; the contract revokes at Discord too.
        try:
            requests.post(
                API + "/oauth2/token/revoke",
                data={"token": token["access_token"], "token_type_hint": "access_token"},
                auth=(str(app.config["DISCORD_CLIENT_ID"]), app.config["DISCORD_CLIENT_SECRET"]),
                timeout=5,
            )
        except requests.RequestException:
            pass  # logout answers 302 even when Discord's revoke fails
    discord.revoke()
    return redirect("/")
