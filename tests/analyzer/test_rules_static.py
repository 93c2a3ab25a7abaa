"""PF501-PF503 beyond their examples: which wraps and server settings count, how paths are located."""

from __future__ import annotations

from analyzer import analyze

APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def findings(repo, rule, files, **options):
    report = analyze(repo(files), select=[rule], **options)
    return [finding for finding in report.findings if finding.rule == rule]


# -- PF501 ---------------------------------------------------------------------------


def test_a_whitenoise_wrap_that_does_not_run_in_production_is_no_wrap(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "import os\nfrom flask import Flask\nfrom whitenoise import WhiteNoise\n\napp = Flask(__name__)\n"
            "if os.environ.get('USE_WHITENOISE'):\n"
            "    app.wsgi_app = WhiteNoise(app.wsgi_app, root='static/', prefix='static/')\n"
        ),
        "static/site.css": "body {}\n",
    }
    (finding,) = findings(repo, "PF501", files)
    assert "no WhiteNoise wrap" in finding.message
    assert (finding.path, finding.line) == ("app.py", 5)


def test_an_empty_prefix_serves_at_the_url_root(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": APP + "from whitenoise import WhiteNoise\n\napp.wsgi_app = WhiteNoise(app.wsgi_app, 'static/', '')\n",
        "static/site.css": "body {}\n",
    }
    (finding,) = findings(repo, "PF501", files)
    assert "has no `prefix`" in finding.message


def test_a_blueprint_not_imported_by_the_served_app_does_not_count(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": APP,
        "legacy/admin.py": "from flask import Blueprint\n\nadmin = Blueprint('admin', __name__, static_folder='assets')\n",
        "legacy/assets/admin.js": "1\n",
    }
    assert findings(repo, "PF501", files) == []


# -- PF502 ---------------------------------------------------------------------------


def test_scheme_and_address_uses_are_reported_separately_with_the_first_few(repo):
    handlers = "".join(
        f"\n\n@app.route('/r{i}')\ndef r{i}():\n    return url_for('r{i}', _external=True)\n" for i in range(5)
    )
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": "from flask import Flask, request, url_for\n\napp = Flask(__name__)\n"
        + handlers
        + "\n\n@app.route('/ip')\ndef ip():\n    return request.remote_addr\n",
    }
    scheme, address = findings(repo, "PF502", files)
    assert scheme.subject == "scheme" and address.subject == "client address"
    assert "and 2 more" in scheme.message
    assert scheme.line == 8
    assert "`request.remote_addr` (app.py:33)" in address.message


def test_preferred_url_scheme_does_not_help_inside_a_request(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "from flask import Flask, url_for\n\napp = Flask(__name__)\napp.config['PREFERRED_URL_SCHEME'] = 'https'\n"
            "\n\n@app.route('/')\ndef index():\n    return url_for('index', _external=True)\n"
        ),
    }
    assert len(findings(repo, "PF502", files)) == 1


def test_forwarded_allow_ips_from_a_config_file_or_the_platform(repo):
    app = "from flask import Flask, request\n\napp = Flask(__name__)\n\n\ndef secure():\n    return request.is_secure\n"
    with_conf = {
        "Procfile": "web: gunicorn -c config/gunicorn.py app:app\n",
        "config/gunicorn.py": "forwarded_allow_ips = '*'\n",
        "app.py": app,
    }
    assert findings(repo, "PF502", with_conf) == []
    default_trust = {**with_conf, "config/gunicorn.py": "forwarded_allow_ips = '127.0.0.1'\n"}
    assert len(findings(repo, "PF502", default_trust)) == 1


def test_forwarded_allow_ips_among_the_platform_variables(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": "from flask import Flask, request\n\napp = Flask(__name__)\n\n\ndef root():\n    return request.url_root\n",
    }
    assert findings(repo, "PF502", files, platform={"variables": ["FORWARDED_ALLOW_IPS"]}) == []
    assert len(findings(repo, "PF502", files, platform={"variables": []})) == 1


def test_proxyfix_with_x_proto_zero_does_not_fix_the_scheme(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "from flask import Flask, request\nfrom werkzeug.middleware.proxy_fix import ProxyFix\n\n"
            "app = Flask(__name__)\napp.wsgi_app = ProxyFix(app.wsgi_app, x_proto=0)\n\n\n"
            "def scheme():\n    return request.scheme\n"
        ),
    }
    (finding,) = findings(repo, "PF502", files)
    assert "ProxyFix (app.py:5) has `x_proto=0`" in finding.message


def test_flask_dance_and_templates_with_an_explicit_scheme(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": APP
        + "from flask_dance.contrib.github import make_github_blueprint\n\nbp = make_github_blueprint()\n",
        "templates/mail.html": "{{ url_for('index', _external=True, _scheme='https') }}\n",
    }
    (finding,) = findings(repo, "PF502", files)
    assert finding.message.startswith("Flask-Dance's OAuth callback URL (app.py:6)")


# -- PF503 ---------------------------------------------------------------------------


def served(handler: str) -> dict[str, str]:
    return {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "import os\nfrom pathlib import Path\nfrom flask import Flask, request\n"
            "from werkzeug.utils import secure_filename\n\napp = Flask(__name__)\n\n\n"
            "@app.post('/upload')\ndef upload():\n" + handler
        ),
    }


def test_upload_paths_by_how_they_are_built(repo):
    static = served("    request.files['f'].save('static/uploads/' + request.files['f'].filename)\n")
    assert "the static folder (`static/uploads`)" in findings(repo, "PF503", static)[0].message
    pathlib = served("    f = request.files['f']\n    f.save(Path(app.root_path) / 'uploads' / f.filename)\n")
    assert "the app's own folder" in findings(repo, "PF503", pathlib)[0].message
    fstring = served("    f = request.files['f']\n    f.save(f\"media/{secure_filename(f.filename)}\")\n")
    assert "(`media`)" in findings(repo, "PF503", fstring)[0].message


def test_paths_that_cannot_be_told_or_lie_outside_the_container_are_quiet(repo):
    unknown = served("    f = request.files['f']\n    f.save(secure_filename(f.filename))\n")
    assert findings(repo, "PF503", unknown) == []
    absolute = served("    request.files['f'].save('/data/uploads/x.png')\n")
    assert findings(repo, "PF503", absolute) == []
    orm = served("    form = request.form\n    form.save(commit=True)\n    return 'ok'\n")
    assert findings(repo, "PF503", orm) == []


def test_dict_config_file_handlers(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "from logging.config import dictConfig\nfrom flask import Flask\n\n"
            "dictConfig({'version': 1, 'handlers': {'file': {\n"
            "    'class': 'logging.handlers.RotatingFileHandler', 'filename': 'logs/app.log'}}})\n"
            "app = Flask(__name__)\n"
        ),
    }
    (finding,) = findings(repo, "PF503", files)
    assert finding.message.startswith("`RotatingFileHandler` writes to a path relative")
    assert finding.line == 4
