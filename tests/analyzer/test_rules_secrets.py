"""PF303 secret-key-hardcoded, PF307 secret-key-per-process, PF308 credential-literal: the cases the
example repos do not pin down."""

from __future__ import annotations

import libcst as cst
import pytest

from analyzer import analyze
from analyzer.files import quick_parse
from analyzer.prodpath import Known
from analyzer.pysource import PyModule
from analyzer.rules import catalog
from analyzer.rules.pf303_secret_key_hardcoded import redact
from analyzer.rules.pf308_credential_literal import (
    LOOKUPS,
    _callee_name,
    _has_candidate_call,
    _may_hold_url,
    credential_kind,
    is_credential_name,
)

SECRET_RULES = ["PF303", "PF307", "PF308"]
PROCFILE = {"Procfile": "web: gunicorn app:app\n"}


def findings(repo, files, platform=None, rules=SECRET_RULES):
    report = analyze(repo(files), platform=platform, select=rules)
    return [finding for finding in report.findings if finding.rule in rules]


# A value long enough for the analyzer's code excerpts to cut it short with "...".
LONG_SECRET = "MARKER" + "q7" * 60


@pytest.mark.parametrize(
    "app",
    [
        "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
        f"app.config.from_mapping(SECRET_KEY=os.environ.get('SECRET_KEY', '{LONG_SECRET}'),\n"
        "    MAIL_PASSWORD='MARKERmail', SQLALCHEMY_DATABASE_URI=os.getenv('DATABASE_URL')\n"
        "    or 'postgresql://app:MARKERdb@db.example.com/app')\n",
        "import os\nfrom flask import Flask\n\n\nclass Config:\n"
        f"    SECRET_KEY = os.environ.get('SECRET_KEY') or '{LONG_SECRET}'\n"
        "    JWT_SECRET_KEY = 'MARKERjwt'\n    STRIPE_API_KEY = os.getenv('STRIPE_API_KEY', 'MARKERsk_live')\n\n\n"
        "app = Flask(__name__)\napp.config.from_object(Config)\n"
        "app.config.update({'MAIL_PASSWORD': 'MARKERmail'})\n",
        "import os\nimport redis\nfrom flask import Flask\napp = Flask(__name__)\n"
        "app.secret_key = os.getenv('SECRET_KEY')\nif not app.secret_key:\n    app.secret_key = 'MARKERfallback'\n"
        "store = redis.Redis(host='cache.example.com', password=os.environ.get('REDIS_PASSWORD', 'MARKERredis'))\n",
    ],
)
def test_no_finding_shows_a_secret_value(repo, app):
    dockerfile = "FROM python:3.12\nENV API_TOKEN=MARKERtoken\nCMD gunicorn app:app\n"
    found = findings(repo, {"app.py": app, "Dockerfile": dockerfile})
    assert len(found) >= 3
    for finding in found:
        shown = "\n".join([finding.message, finding.subject, *finding.evidence])
        assert "MARKER" not in shown, (finding.rule, shown)


def test_redact_hides_a_value_a_code_excerpt_cuts_short():
    value = Known(LONG_SECRET)
    excerpt = f"`os.environ.get('SECRET_KEY', '{LONG_SECRET[:40]}..."
    lines = [excerpt, f"`x = {LONG_SECRET!r}` (app.py:3)", "`os.getenv('FLASK_CONFIG') or 'default'` (wsgi.py:4)"]
    assert redact(lines, [value]) == [
        "`os.environ.get('SECRET_KEY', '***'",
        "`x = '***'` (app.py:3)",
        "`os.getenv('FLASK_CONFIG') or 'default'` (wsgi.py:4)",
    ]


def test_a_literal_in_every_config_the_platform_may_select_is_flagged(repo):
    config = (
        "class Config:\n    MAIL_SERVER = 'smtp.example.com'\n\n\n"
        "class DevelopmentConfig(Config):\n    SECRET_KEY = 'dev-key'\n\n\n"
        "class ProductionConfig(Config):\n    SECRET_KEY = 'prod-key'\n\n\n"
        "config = {'development': DevelopmentConfig, 'production': ProductionConfig}\n"
    )
    app = (
        "import os\nfrom flask import Flask\nfrom config import config\n\napp = Flask(__name__)\n"
        "app.config.from_object(config[os.environ['FLASK_CONFIG']])\n"
    )
    [finding] = findings(repo, {**PROCFILE, "config.py": config, "app.py": app}, {"variables": ["FLASK_CONFIG"]})
    assert finding.rule == "PF303"
    assert "whichever config it loads: config.py:6, config.py:10" in finding.message
    assert any("`FLASK_CONFIG` is set on the platform" in line for line in finding.evidence)


def test_a_candidate_config_that_reads_the_environment_is_unknown(repo):
    config = (
        "import os\n\n\nclass DevelopmentConfig:\n    SECRET_KEY = 'dev-key'\n\n\n"
        "class ProductionConfig:\n    SECRET_KEY = os.environ['SECRET_KEY']\n\n\n"
        "config = {'development': DevelopmentConfig, 'production': ProductionConfig}\n"
    )
    app = (
        "import os\nfrom flask import Flask\nfrom config import config\n\napp = Flask(__name__)\n"
        "app.config.from_object(config[os.environ['FLASK_CONFIG']])\n"
    )
    platform = {"variables": ["FLASK_CONFIG", "SECRET_KEY"]}
    assert findings(repo, {**PROCFILE, "config.py": config, "app.py": app}, platform) == []


def test_a_failing_check_of_another_variable_does_not_excuse_the_key(repo):
    app = (
        "import os\nfrom flask import Flask\n\napp = Flask(__name__)\napp.secret_key = 'abc-literal'\n"
        "if not os.environ.get('DATABASE_URL'):\n    raise RuntimeError('DATABASE_URL is required')\n"
    )
    [finding] = findings(repo, {**PROCFILE, "app.py": app})
    assert finding.rule == "PF303" and finding.location == "app.py:5"


def test_an_assert_on_the_key_that_fails_counts_as_failing_loudly(repo):
    app = (
        "import os\nfrom flask import Flask\n\nSECRET_KEY = os.environ.get('SECRET_KEY', 'dev')\n"
        "assert SECRET_KEY != 'dev', 'set SECRET_KEY'\n\napp = Flask(__name__)\napp.config.from_object(__name__)\n"
    )
    assert findings(repo, {**PROCFILE, "app.py": app}) == []


def test_the_if_not_branch_is_quiet_when_the_platform_sets_the_key(repo):
    app = (
        "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
        "app.config['SECRET_KEY'] = os.environ.get('SECRET_KEY')\n"
        "if not app.config['SECRET_KEY']:\n    app.config['SECRET_KEY'] = 'dev'\n"
    )
    assert findings(repo, {**PROCFILE, "app.py": app}, {"variables": ["SECRET_KEY"]}) == []


def test_a_branch_on_something_else_is_unknown(repo):
    app = (
        "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
        "app.config['SECRET_KEY'] = os.environ.get('SECRET_KEY')\n"
        "if os.environ.get('FLASK_DEBUG') == '1':\n    app.config['SECRET_KEY'] = 'dev'\n"
    )
    assert findings(repo, {**PROCFILE, "app.py": app}, {"variables": ["FLASK_DEBUG"]}) == []


def test_a_module_loaded_as_config_is_reported_once(repo):
    app = "from flask import Flask\n\nSECRET_KEY = 'module-key'\n\napp = Flask(__name__)\napp.config.from_object(__name__)\n"
    [finding] = findings(repo, {**PROCFILE, "app.py": app})
    assert finding.message == "`SECRET_KEY` is a hard-coded literal in app.py:3"
    assert "`app.config.from_object(__name__)` (app.py:6) loads app.py" in finding.evidence


def test_a_json_config_file_is_read(repo):
    app = "import json\nfrom flask import Flask\n\napp = Flask(__name__)\napp.config.from_file('config.json', load=json.load)\n"
    files = {**PROCFILE, "app.py": app, "config.json": '{"SECRET_KEY": "json-key", "MAIL_PASSWORD": "json-pw"}'}
    messages = sorted(finding.message for finding in findings(repo, files))
    assert messages == [
        "`MAIL_PASSWORD` is a hard-coded credential in config.json",
        "`SECRET_KEY` is a hard-coded literal in config.json",
    ]


def test_deploy_files_are_quiet_when_the_platform_sets_the_variable(repo):
    files = {
        "Dockerfile": "FROM python:3.12-slim\nENV SECRET_KEY=dev MAIL_PASSWORD=dev-mail\nCMD gunicorn app:app\n",
        "nixpacks.toml": '[variables]\nSTRIPE_API_KEY = "sk_test_abc123"\n',
        "app.py": "import os\nfrom flask import Flask\n\napp = Flask(__name__)\napp.secret_key = os.environ['SECRET_KEY']\n",
    }
    assert findings(repo, files, {"variables": ["SECRET_KEY", "MAIL_PASSWORD", "STRIPE_API_KEY"]}) == []
    found = sorted((finding.rule, finding.location) for finding in findings(repo, files))
    assert found == [("PF303", "Dockerfile:2"), ("PF308", "Dockerfile:2"), ("PF308", "nixpacks.toml:2")]


def test_a_start_command_prefix_wins_over_the_platform(repo):
    files = {
        "Procfile": "web: SECRET_KEY=abc123 gunicorn app:app\nrelease: export ADMIN_PASSWORD=admin123 && flask seed\n",
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
    }
    found = findings(repo, files, {"variables": ["SECRET_KEY", "ADMIN_PASSWORD"]})
    assert sorted(finding.message for finding in found) == [
        "`ADMIN_PASSWORD` is a hard-coded credential in the `release` command (Procfile:2)",
        "`SECRET_KEY` is a hard-coded literal in the `web` command (Procfile:1)",
    ]


def test_literal_and_generated_keys_go_to_their_own_rule(repo):
    app = (
        "import os\nimport secrets\nfrom flask import Flask\n\napp = Flask(__name__)\n"
        "app.config['SECRET_KEY'] = os.environ.get('SECRET_KEY', 'dev')\n"
        "app.config['JWT_SECRET_KEY'] = secrets.token_hex(32)\n"
    )
    found = sorted((finding.rule, finding.location) for finding in findings(repo, {**PROCFILE, "app.py": app}))
    assert found == [("PF303", "app.py:6"), ("PF307", "app.py:7")]


def test_the_fingerprint_survives_unrelated_lines_moving(repo, tmp_path):
    app = (
        "from flask import Flask\napp = Flask(__name__)\napp.secret_key = 'abc'\napp.config['MAIL_PASSWORD'] = 'pw1'\n"
    )
    before = {f.rule: f.fingerprint for f in findings(repo, {**PROCFILE, "app.py": app})}
    moved = "# a comment\n\n" + app
    report = analyze(repo({**PROCFILE, "app.py": moved}), select=SECRET_RULES)
    after = {f.rule: f.fingerprint for f in report.findings}
    assert before == after and set(before) == {"PF303", "PF308"}


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("MAIL_PASSWORD", "s3cr3t", "credential"),
        ("DATABASE_URL", "postgresql://app:pw@db.example.com:5432/app", "url"),
        ("CELERY_BROKER_URL", "redis://:pw@redis.example.com:6379/0", "url"),
        ("DATABASE_URL", "postgresql://app:pw@/app?host=/cloudsql/project:region:db", "url"),
        ("DATABASE_URL", "postgresql://postgres:postgres@localhost:5432/app", None),
        ("DATABASE_URL", "postgresql://postgres:postgres@db:5432/app", None),
        ("DATABASE_URL", "postgresql://app@db.example.com/app", None),
        ("DATABASE_URL", "postgresql://app:${DB_PASSWORD}@db.example.com/app", None),
        ("API_TOKEN", "https://auth.example.com/token", None),
        ("STRIPE_API_KEY", "your-stripe-key-here", None),
        ("GITHUB_TOKEN", "  ", None),
        ("MAIL_SERVER", "smtp.example.com", None),
    ],
)
def test_credential_kind(name, value, kind):
    assert credential_kind(name, value) == kind


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MAIL_PASSWORD", True),
        ("password", True),
        ("STRIPE_SECRET_KEY", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("SENDGRID_API_KEY", True),
        ("apikey", True),
        ("SLACK_BOT_TOKEN", True),
        ("OAUTH_CLIENT_SECRET", True),
        ("SECRET_KEY", False),
        ("JWT_SECRET_KEY", False),
        ("STRIPE_PUBLISHABLE_KEY", False),
        ("RECAPTCHA_PUBLIC_KEY", False),
        ("JWT_ACCESS_TOKEN_EXPIRES", False),
        ("SECURITY_PASSWORD_HASH", False),
        ("BYPASS", False),
        ("CACHE_KEY_PREFIX", False),
    ],
)
def test_credential_names(name, expected):
    assert is_credential_name(name) is expected


def test_the_rules_are_registered_with_their_severity():
    rules = {rule.id: rule for rule in catalog().rules}
    assert (rules["PF303"].severity, rules["PF307"].severity, rules["PF308"].severity) == ("blocker", "high", "high")


def _example_modules():
    for rule in catalog().rules:
        for example in [*rule.VALID, *rule.INVALID]:
            for name, content in example.files.items():
                if name.endswith(".py") and isinstance(content, str):
                    yield content


ARGUMENT_SNIPPETS = [
    "client = Client(api_key='sk_live_abc')\n",
    "engine = create_engine('postgresql://app:pw@db.example.com/app')\n",
    "engine = create_engine('postgresql://app:pw@' 'db.example.com/app')\n",
    "engine = create_engine(f'postgresql://app:{PW}@db.example.com/app')\n",
    "engine = create_engine(DATABASE_URL)\n",
    "engine = create_engine(os.environ.get('DATABASE_URL') or 'postgresql://a:b@c.example.com/d')\n",
    "engine = create_engine(*ARGS, **{'url': 'postgresql://a:b@c.example.com/d'})\n",
    "store = redis.Redis(**settings, password=os.getenv('REDIS_PASSWORD', 'pw'))\n",
    "conn = connect(config('DATABASE_URL', default='postgresql://a:b@c.example.com/d'))\n",
    "x = make(lambda: Client(token='t0ken-value'))\n",
]


def test_the_argument_prefilter_keeps_every_module_the_libcst_check_would_look_at():
    """PF308 skips modules by CPython's tree before parsing them; it must never skip one whose calls
    the libcst check would evaluate. Checked on every example module of the catalogue."""

    def looked_at(call):
        lookup = _callee_name(call) in LOOKUPS
        return any(
            (arg.keyword is not None and is_credential_name(arg.keyword.value))
            or (not lookup and _may_hold_url(arg.value))
            for arg in call.args
        )

    candidates = [
        source
        for source in [*_example_modules(), *ARGUMENT_SNIPPETS]
        if any(looked_at(call) for call in PyModule("m.py", source, cst.parse_module(source)).nodes_of(cst.Call))
    ]
    assert len(candidates) >= len(ARGUMENT_SNIPPETS)  # the libcst test does look at the snippets
    skipped = [source for source in candidates if not _has_candidate_call(quick_parse(source))]
    assert skipped == []


def test_the_argument_prefilter_skips_modules_without_a_candidate_call():
    source = "import os\nx = os.environ.get('API_URL', 'https://api.example.com')\ny = db.Column(primary_key=True)\n"
    assert not _has_candidate_call(quick_parse(source))
