"""What value a setting takes: literals, env reads in every shape, aliases, generated values."""

from __future__ import annotations

import libcst as cst
import pytest

from analyzer.platform import Platform
from analyzer.prodpath import EnvValue, Generated, Known, Unknown
from analyzer.project import Project

APP = "from flask import Flask\nimport settings\napp = Flask(__name__)\n"


@pytest.fixture
def value_of(repo):
    """The production value of a module-level name of `settings.py`."""

    def evaluate(source: str, name: str, variables: list[str] | None = None, files: dict | None = None):
        root = repo({"Procfile": "web: gunicorn app:app\n", "app.py": APP, "settings.py": source, **(files or {})})
        platform = Platform.from_dict({"variables": variables} if variables is not None else None)
        production = Project(root, ".", platform).production
        return production.evaluate(cst.Name(name), "settings.py")

    return evaluate


def test_it_reads_literals_and_their_location(value_of):
    value = value_of("X = 'abc'\nN = -3\nF = 1.5\nB = True\nZ = None\n", "X")
    assert value == Known("abc")
    assert (value.path, value.line) == ("settings.py", 1)
    assert value_of("N = -3\n", "N") == Known(-3)
    assert value_of("B = True\n", "B") == Known(True)
    assert value_of("Z = None\n", "Z") == Known(None)


def test_it_combines_known_strings(value_of):
    source = "A = 'post'\nB = A + 'gres'\nC = f'{B}://host'\nD = '%s-%s' % (A, 'x')\n"
    assert value_of(source, "C") == Known("postgres://host")
    assert value_of(source, "D") == Known("post-x")


@pytest.mark.parametrize(
    "expression",
    [
        'os.environ.get("SECRET_KEY", "dev")',
        'os.getenv("SECRET_KEY", default="dev")',
        'os.environ.get("SECRET_KEY") or "dev"',
        'os.getenv("SECRET_KEY") or "dev"',
    ],
)
def test_it_takes_the_default_of_an_unset_variable(value_of, expression):
    value = value_of(f"import os\nSECRET_KEY = {expression}\n", "SECRET_KEY", variables=[])
    assert isinstance(value, EnvValue)
    assert value.name == "SECRET_KEY"
    assert value.default == Known("dev")
    assert not value.required
    assert value.effective == Known("dev")
    assert value.env == ("SECRET_KEY",)
    assert any("not among the platform variables" in line for line in value.trace)


def test_a_variable_set_on_the_platform_is_unknown_not_its_default(value_of):
    value = value_of("import os\nSECRET_KEY = os.environ.get('SECRET_KEY', 'dev')\n", "SECRET_KEY", ["SECRET_KEY"])
    assert value.default == Known("dev")
    assert isinstance(value.effective, Unknown)
    assert "set on the platform" in value.effective.reason


def test_a_subscript_read_is_required(value_of):
    value = value_of("import os\nSECRET_KEY = os.environ['SECRET_KEY']\n", "SECRET_KEY")
    assert isinstance(value, EnvValue)
    assert value.required
    assert value.default is None
    assert isinstance(value.effective, Unknown)


def test_a_get_without_default_is_none_when_unset(value_of):
    value = value_of("import os\nX = os.environ.get('X')\n", "X")
    assert value.default is None and not value.required
    assert value.effective == Known(None)


@pytest.mark.parametrize(
    "source",
    [
        "import os as _os\nX = _os.environ.get('X', 'd')\n",
        "from os import environ\nX = environ.get('X', 'd')\n",
        "from os import getenv as ge\nX = ge('X', 'd')\n",
        "from os import environ as env\nX = env.get('X') or 'd'\n",
        "import os\nX = os.environ.setdefault('X', 'd')\n",
        "from decouple import config\nX = config('X', default='d')\n",
    ],
)
def test_it_follows_aliases(value_of, source):
    value = value_of(source, "X")
    assert isinstance(value, EnvValue)
    assert value.name == "X"
    assert value.effective == Known("d")


def test_a_subscript_through_an_alias_is_required(value_of):
    value = value_of("from os import environ as e\nX = e['X']\n", "X")
    assert isinstance(value, EnvValue) and value.required


def test_a_local_function_named_getenv_is_not_an_env_read(value_of):
    value = value_of("def getenv(name, default=None):\n    return 'local'\nX = getenv('X', 'd')\n", "X")
    assert value == Known("local")


def test_if_not_fallback_is_the_default(value_of):
    source = "import os\nSECRET_KEY = os.environ.get('SECRET_KEY')\nif not SECRET_KEY:\n    SECRET_KEY = 'dev'\n"
    value = value_of(source, "SECRET_KEY")
    assert isinstance(value, EnvValue)
    assert value.default == Known("dev")
    assert value.default.line == 4
    assert value.effective == Known("dev")
    assert isinstance(value_of(source, "SECRET_KEY", ["SECRET_KEY"]).effective, Unknown)


def test_if_is_none_fallback_and_try_except_keyerror(value_of):
    source = "import os\nA = os.getenv('A')\nif A is None:\n    A = 'x'\n"
    assert value_of(source, "A").default == Known("x")
    source = "import os\ntry:\n    B = os.environ['B']\nexcept KeyError:\n    B = 'y'\n"
    value = value_of(source, "B")
    assert value.default == Known("y") and not value.required


def test_a_fallback_that_raises_makes_the_read_required(value_of):
    source = "import os\nK = os.environ.get('K')\nif not K:\n    raise RuntimeError('K must be set')\n"
    value = value_of(source, "K")
    assert isinstance(value, EnvValue)
    assert value.required and value.default is None


def test_the_last_unconditional_assignment_wins(value_of):
    source = "import os\nSECRET_KEY = 'literal'\nSECRET_KEY = os.environ['SECRET_KEY']\n"
    value = value_of(source, "SECRET_KEY")
    assert isinstance(value, EnvValue) and value.line == 3
    source = "import os\nDEBUG = os.environ.get('DEBUG')\nDEBUG = True\n"
    assert value_of(source, "DEBUG") == Known(True)


def test_a_conditional_assignment_does_not_override(value_of):
    source = "import os\nDEBUG = False\nif os.environ.get('VERBOSE'):\n    DEBUG = True\n"
    # VERBOSE is set on the platform: the branch cannot be decided.
    assert value_of(source, "DEBUG", ["VERBOSE"]) == Known(False)
    # VERBOSE is unset: the branch is decided, not taken.
    assert value_of(source, "DEBUG", []) == Known(False)
    source = "import os\nDEBUG = False\nif os.environ.get('VERBOSE', '1'):\n    DEBUG = True\n"
    assert value_of(source, "DEBUG", []) == Known(True)


def test_a_name_only_assigned_conditionally_is_unknown(value_of):
    source = "import os\nif os.environ.get('X'):\n    Y = 1\n"
    value = value_of(source, "Y", ["X"])
    assert isinstance(value, Unknown)
    assert value.options == (Known(1),)


def test_branches_decided_on_a_default(value_of):
    source = (
        "import os\n"
        "ENV = os.getenv('APP_ENV', 'development')\n"
        "if ENV == 'production':\n"
        "    DEBUG = False\n"
        "else:\n"
        "    DEBUG = True\n"
    )
    value = value_of(source, "DEBUG", [])
    assert value == Known(True)
    assert value.env == ()
    assert isinstance(value_of(source, "DEBUG", ["APP_ENV"]), Unknown)


def test_derived_values_remember_their_variables(value_of):
    source = "import os\nDEBUG = os.environ.get('FLASK_DEBUG', '0').lower() in ('1', 'true')\n"
    value = value_of(source, "DEBUG")
    assert value == Known(False)
    assert value.env == ("FLASK_DEBUG",)
    port = value_of("import os\nPORT = int(os.environ.get('PORT', 5000))\n", "PORT", [])
    assert isinstance(port, Unknown)  # Railway always sets PORT


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("import secrets\nK = secrets.token_hex(32)\n", "secrets"),
        ("import os\nK = os.urandom(24)\n", "urandom"),
        ("import os\nK = os.urandom(24).hex()\n", "urandom"),
        ("from uuid import uuid4\nK = str(uuid4())\n", "uuid"),
        ("import uuid\nK = f'{uuid.uuid4()}'\n", "uuid"),
    ],
)
def test_generated_values(value_of, source, kind):
    value = value_of(source, "K")
    assert isinstance(value, Generated)
    assert value.kind == kind


def test_a_generated_fallback(value_of):
    value = value_of("import os, secrets\nK = os.environ.get('K') or secrets.token_hex()\n", "K")
    assert isinstance(value.default, Generated)
    assert isinstance(value.effective, Generated)


def test_names_follow_imports_into_repo_modules(value_of):
    files = {
        "defaults.py": "import os\nSECRET = os.getenv('S', 'x')\n",
        "pkg/__init__.py": "",
        "pkg/consts.py": "N = 3\n",
    }
    source = (
        "from defaults import SECRET as K\nfrom pkg import consts\nimport pkg.consts\nA = consts.N\nB = pkg.consts.N\n"
    )
    value = value_of(source, "K", files=files)
    assert isinstance(value, EnvValue) and value.path == "defaults.py"
    assert value_of(source, "A", files=files) == Known(3)
    assert value_of(source, "B", files=files) == Known(3)


def test_unknown_things_stay_unknown(value_of):
    assert isinstance(value_of("import requests\nX = requests.get('u').text\n", "X"), Unknown)
    assert isinstance(value_of("X = undefined_name\n", "X"), Unknown)
    assert isinstance(value_of("for X in range(3):\n    pass\n", "X"), Unknown)


def test_paths_built_from_file(value_of):
    source = (
        "import os\nfrom pathlib import Path\n"
        "basedir = os.path.abspath(os.path.dirname(__file__))\n"
        "A = 'sqlite:///' + os.path.join(basedir, 'app.db')\n"
        "BASE = Path(__file__).resolve().parent\n"
        "B = f'sqlite:///{BASE / \"b.db\"}'\n"
    )
    assert value_of(source, "A") == Known("sqlite:////<repo>/app.db")
    assert value_of(source, "B") == Known("sqlite:////<repo>/b.db")


def test_type_checking_blocks_are_not_run(value_of):
    source = "from typing import TYPE_CHECKING\nX = 1\nif TYPE_CHECKING:\n    X = 2\n"
    assert value_of(source, "X") == Known(1)


def test_dict_lookup_with_env_key(value_of):
    source = (
        "import os\n"
        "class Dev: pass\n"
        "class Prod: pass\n"
        "by_name = dict(dev=Dev, prod=Prod)\n"
        "SELECTED = by_name.get(os.getenv('MODE', 'dev'))\n"
        "OTHER = by_name[os.environ['MODE']]\n"
    )
    selected = value_of(source, "SELECTED", [])
    assert selected.effective.value.name == "Dev"
    other = value_of(source, "OTHER", ["MODE"])
    assert isinstance(other, Unknown)
    assert sorted(option.value.name for option in other.options) == ["Dev", "Prod"]


def test_dotenv_values_reads_the_committed_file(value_of):
    source = "from dotenv import dotenv_values\ncfg = dotenv_values('.env')\nK = cfg['API_KEY']\n"
    value = value_of(source, "K", files={".env": "API_KEY=abc123\n"})
    assert value == Known("abc123")
    assert value.path == ".env"


def test_paths_from_the_working_directory_and_from_pathlib(value_of):
    source = (
        "import os\nfrom pathlib import Path\n\nBASE = Path(__file__).resolve().parent\n"
        "A = os.path.join(os.getcwd(), 'instance', 'app.db')\nB = str(Path(BASE).joinpath('x.db'))\n"
        "C = os.path.join(BASE, 'y.db')\nD = Path.cwd() / 'z.db'\n"
    )
    assert value_of(source, "A") == Known("/<repo>/instance/app.db")
    assert value_of(source, "B") == Known("/<repo>/x.db")
    assert value_of(source, "C") == Known("/<repo>/y.db")
    assert str(value_of(source, "D").value) == "/<repo>/z.db"
