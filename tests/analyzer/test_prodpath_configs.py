"""Which config is loaded and what each setting is, on the production path."""

from __future__ import annotations

import pytest

from analyzer.platform import Platform
from analyzer.prodpath import EnvValue, Generated, Known, Unknown
from analyzer.project import Project

FLASKY_CONFIG = """\
import os
basedir = os.path.abspath(os.path.dirname(__file__))


class Config:
    SECRET_KEY = os.environ.get('SECRET_KEY') or 'hard to guess string'
    MAIL_SERVER = 'smtp.example.com'

    @staticmethod
    def init_app(app):
        pass


class DevelopmentConfig(Config):
    DEBUG = True
    SQLALCHEMY_DATABASE_URI = os.environ.get('DEV_DATABASE_URL') or \\
        'sqlite:///' + os.path.join(basedir, 'data-dev.sqlite')


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get('TEST_DATABASE_URL') or 'sqlite://'


class ProductionConfig(Config):
    SECRET_KEY = os.environ['SECRET_KEY']
    SQLALCHEMY_DATABASE_URI = os.environ.get('DATABASE_URL') or \\
        'sqlite:///' + os.path.join(basedir, 'data.sqlite')


config = {
    'development': DevelopmentConfig,
    'testing': TestingConfig,
    'production': ProductionConfig,
    'default': DevelopmentConfig,
}
"""

FLASKY_APP = """\
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from config import config

db = SQLAlchemy()


def create_app(config_name):
    app = Flask(__name__)
    app.config.from_object(config[config_name])
    config[config_name].init_app(app)
    db.init_app(app)
    return app
"""

FLASKY = {
    "Procfile": "web: gunicorn flasky:app\n",
    "config.py": FLASKY_CONFIG,
    "app/__init__.py": FLASKY_APP,
    "flasky.py": "import os\nfrom app import create_app, db\n\napp = create_app(os.getenv('FLASK_CONFIG') or 'default')\n",
}


def production(repo, files, variables=None, **platform):
    if variables is not None:
        platform["variables"] = variables
    return Project(repo(files), ".", Platform.from_dict(platform or None)).production


def test_flasky_selects_the_development_config_when_flask_config_is_unset(repo):
    path = production(repo, FLASKY, variables=["DATABASE_URL"])
    config = path.config
    assert [cls.name for cls in config.selected] == ["DevelopmentConfig", "Config"]
    assert {cls.name for cls in config.unselected} == {"TestingConfig", "ProductionConfig"}
    assert not config.ambiguous
    assert config.value("DEBUG") == Known(True)
    secret = config.get("SECRET_KEY")
    assert secret.source == "Config (config.py:5), inherited by DevelopmentConfig"
    assert (secret.path, secret.line) == ("config.py", 6)
    assert isinstance(secret.value, EnvValue) and secret.value.default == Known("hard to guess string")
    assert path.is_unselected("ProductionConfig") and not path.is_selected("ProductionConfig")
    why = path.why_not_selected("ProductionConfig")
    assert why[0] == (
        "ProductionConfig is not selected: `app.config.from_object(config[config_name])` (app/__init__.py:10) "
        "loads DevelopmentConfig"
    )
    assert any("`FLASK_CONFIG` is not set (not among the platform variables)" in line for line in why)
    assert why[-1] == "`config[config_name]` -> DevelopmentConfig (app/__init__.py:10)"


def test_flasky_is_ambiguous_when_flask_config_is_set_on_the_platform(repo):
    config = production(repo, FLASKY, variables=["FLASK_CONFIG"]).config
    assert config.ambiguous
    assert config.selected == [] and config.unselected == []
    # Every candidate inherits MAIL_SERVER from the same line: it is known whichever is loaded.
    assert config.value("MAIL_SERVER") == Known("smtp.example.com")
    debug = config.get("DEBUG")
    assert isinstance(debug.value, Unknown) and debug.conditional
    assert isinstance(config.value("SQLALCHEMY_DATABASE_URI"), Unknown)


def test_flasky_selects_production_from_the_dockerfile_env(repo):
    files = {**FLASKY, "Dockerfile": "FROM python:3.12\nENV FLASK_CONFIG=production\nCMD gunicorn flasky:app\n"}
    path = production(repo, files, variables=["SECRET_KEY"])
    config = path.config
    assert config.selected[0].name == "ProductionConfig"
    assert "DEBUG" not in config.settings
    secret = config.get("SECRET_KEY")
    assert secret.source == "ProductionConfig (config.py:25)"
    assert isinstance(secret.value, EnvValue) and secret.value.required
    assert any("set to 'production' by Dockerfile:2" in line for line in config.evidence)
    assert path.is_unselected("DevelopmentConfig")


def test_a_start_command_assignment_sets_the_variable(repo):
    files = {**FLASKY, "Procfile": "web: FLASK_CONFIG=production gunicorn flasky:app\n"}
    assert production(repo, files).config.selected[0].name == "ProductionConfig"


def test_the_platform_start_command_overrides_the_procfile(repo):
    files = {**FLASKY, "wsgi.py": "from app import create_app\napp = create_app('production')\n"}
    path = production(repo, files, start_command="gunicorn wsgi:app")
    assert path.modules[0] == "wsgi.py"
    assert path.config.selected[0].name == "ProductionConfig"


def test_config_by_name_with_an_env_get_default(repo):
    files = {
        "Procfile": "web: gunicorn manage:app\n",
        "app/config.py": (
            "import os\n"
            "class Config:\n    SECRET_KEY = os.getenv('SECRET_KEY', 'my_precious')\n    DEBUG = False\n"
            "class DevelopmentConfig(Config):\n    DEBUG = True\n"
            "class ProductionConfig(Config):\n    DEBUG = False\n"
            "config_by_name = dict(dev=DevelopmentConfig, development=DevelopmentConfig, prod=ProductionConfig)\n"
        ),
        "app/__init__.py": (
            "from flask import Flask\nfrom .config import config_by_name\n\n"
            "def create_app(config_name):\n"
            "    app = Flask(__name__)\n"
            "    app.config.from_object(config_by_name[config_name])\n"
            "    return app\n"
        ),
        "manage.py": "import os\nfrom app import create_app\napp = create_app(os.environ.get('APP_SETTINGS', 'development'))\n",
    }
    config = production(repo, files, variables=[]).config
    assert config.selected[0].name == "DevelopmentConfig"
    assert config.value("DEBUG") == Known(True)
    files["manage.py"] = (
        "import os\nfrom app import create_app\napp = create_app(os.environ.get('APP_SETTINGS', 'prod'))\n"
    )
    assert production(repo, files, variables=[]).config.value("DEBUG") == Known(False)


def test_from_object_with_an_import_string(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": "from flask import Flask as F\napp = F(__name__)\napp.config.from_object('settings.ProductionConfig')\n",
        "settings.py": "class Config:\n    SECRET_KEY = 'base'\nclass ProductionConfig(Config):\n    DEBUG = False\n",
    }
    path = production(repo, files)
    assert path.config.selected[0].name == "ProductionConfig"
    assert path.setting("SECRET_KEY").value == Known("base")
    assert "settings.py" in path.modules


def test_from_object_with_a_module_string_and_with_name(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "import flask\nDEBUG = True\nlowercase = 1\n"
            "app = flask.Flask(__name__)\napp.config.from_object(__name__)\napp.config.from_object('settings')\n"
        ),
        "settings.py": "SECRET_KEY = 'from-module'\n",
    }
    config = production(repo, files).config
    assert config.value("DEBUG") == Known(True)
    assert "lowercase" not in config.settings
    assert config.value("SECRET_KEY") == Known("from-module")
    assert config.get("SECRET_KEY").source == "settings.py:1"


def test_from_object_of_a_required_variable_is_unknown(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": "import os\nfrom flask import Flask\napp = Flask(__name__)\napp.config.from_object(os.environ['APP_SETTINGS'])\n",
        "config.py": "class ProductionConfig:\n    DEBUG = False\nclass DevelopmentConfig:\n    DEBUG = True\n",
    }
    config = production(repo, files, variables=["APP_SETTINGS"]).config
    assert config.ambiguous
    assert config.selected == [] and config.unselected == []
    assert config.settings == {}
    assert config.operations[0].kind == "from_object"


def test_from_object_of_an_instance_and_a_class_attribute_chain(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "from flask import Flask\nfrom conf import Base, Prod\n"
            "app = Flask(__name__)\napp.config.from_object(Prod())\n"
        ),
        "conf.py": (
            "import os\nclass Base:\n    NAME = 'svc'\n    SECRET_KEY = os.urandom(16)\n"
            "class Mid(Base):\n    pass\nclass Prod(Mid):\n    URL = f'https://{Base.NAME}.example'\n"
        ),
    }
    config = production(repo, files).config
    assert [cls.name for cls in config.selected] == ["Prod", "Mid", "Base"]
    assert config.value("URL") == Known("https://svc.example")
    assert isinstance(config.value("SECRET_KEY"), Generated)


def test_from_pyfile_relative_to_the_root_path_and_the_instance_folder(repo):
    files = {
        "Procfile": "web: gunicorn 'app:create_app()'\n",
        "app/__init__.py": (
            "from flask import Flask\n"
            "def create_app(test_config=None):\n"
            "    app = Flask(__name__, instance_relative_config=True)\n"
            "    app.config.from_mapping(SECRET_KEY='dev', DATABASE='x.sqlite', lower='no')\n"
            "    if test_config is None:\n"
            "        app.config.from_pyfile('config.py', silent=True)\n"
            "    else:\n"
            "        app.config.from_mapping(test_config)\n"
            "    return app\n"
        ),
        "instance/config.py": "SECRET_KEY = 'from-instance'\n",
    }
    config = production(repo, files).config
    assert config.value("SECRET_KEY") == Known("from-instance")
    assert config.get("SECRET_KEY").path == "instance/config.py"
    assert config.value("DATABASE") == Known("x.sqlite")
    assert "lower" not in config.settings
    assert config.loaded_files == ["instance/config.py"]
    assert [op.kind for op in config.operations] == ["from_mapping", "from_pyfile"]


def test_from_pyfile_missing_with_silent(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": "from flask import Flask\napp = Flask(__name__)\napp.config.from_pyfile('local.cfg', silent=True)\n",
    }
    op = production(repo, files).config.operations[0]
    assert op.note == "local.cfg is not in the repository (silent=True: skipped)"


def test_update_setitem_and_app_attributes_in_order(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
            "app.config.update(dict(SECRET_KEY='one', DEBUG=True, lower=1))\n"
            "app.config.update(TESTING=False)\n"
            "app.config['SECRET_KEY'] = os.environ['SECRET_KEY']\n"
            "app.secret_key = 'last'\n"
            "app.debug = False\n"
            "app.config.setdefault('DEBUG', True)\n"
            "app.config.setdefault('SERVER_NAME', 'x')\n"
        ),
    }
    config = production(repo, files).config
    assert config.value("SECRET_KEY") == Known("last")
    assert [setting.line for setting in config.history["SECRET_KEY"]] == [4, 6, 7]
    assert config.value("DEBUG") == Known(False)
    assert config.value("lower") == Known(1)  # update() is dict.update: any key
    assert config.value("TESTING") == Known(False)
    assert config.value("SERVER_NAME") == Known("x")
    assert config.get("SECRET_KEY").source == "`app.secret_key = 'last'` (app.py:7)"


def test_a_conditional_setting_does_not_override(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
            "app.config['SECRET_KEY'] = os.environ['SECRET_KEY']\n"
            "if os.environ.get('LOCAL'):\n"
            "    app.config['SECRET_KEY'] = 'dev'\n"
            "    app.config['EXTRA'] = 1\n"
        ),
    }
    config = production(repo, files, variables=["SECRET_KEY", "LOCAL"]).config
    assert isinstance(config.value("SECRET_KEY"), EnvValue)
    assert config.get("EXTRA").conditional
    assert len(config.history["SECRET_KEY"]) == 2


def test_from_prefixed_env_and_from_envvar(repo):
    files = {
        "Dockerfile": "FROM python:3.12\nENV FLASK_SECRET_KEY=abc FLASK_DEBUG=false APP_CONFIG=settings.cfg\nCMD gunicorn app:app\n",
        "app.py": (
            "from flask import Flask\napp = Flask(__name__)\napp.config.from_prefixed_env()\n"
            "app.config.from_envvar('APP_CONFIG')\n"
        ),
        "settings.cfg": "MAIL_SERVER = 'mail'\n",
    }
    path = production(repo, files, variables=["FLASK_SQLALCHEMY_DATABASE_URI"])
    config = path.config
    assert config.value("SECRET_KEY") == Known("abc")
    assert config.value("DEBUG") == Known(False)
    assert isinstance(config.value("SQLALCHEMY_DATABASE_URI"), Unknown)
    assert config.value("MAIL_SERVER") == Known("mail")
    reads = {use.name: use for use in path.env_reads}
    assert reads["APP_CONFIG"].required and reads["APP_CONFIG"].set_by == "Dockerfile:2"


def test_a_factory_named_by_the_target_with_arguments(repo):
    files = {
        "Procfile": "web: gunicorn \"myapp:create_app('production')\"\n",
        "myapp/__init__.py": (
            "from flask import Flask\n"
            "CONFIGS = {'production': 'myapp.settings.Prod', 'development': 'myapp.settings.Dev'}\n"
            "def create_app(name='development'):\n"
            "    app = Flask(__name__)\n"
            "    app.config.from_object(CONFIGS[name])\n"
            "    return app\n"
        ),
        "myapp/settings.py": "class Dev:\n    DEBUG = True\nclass Prod:\n    DEBUG = False\n",
    }
    path = production(repo, files)
    assert path.config.selected[0].name == "Prod"
    assert path.app is not None and path.app.path == "myapp/__init__.py"
    assert [run.function.name for run in path.functions_run] == ["create_app"]


def test_a_factory_default_parameter(repo):
    files = {
        "Procfile": "web: gunicorn 'app:create_app()'\n",
        "app.py": (
            "from flask import Flask\nclass Dev:\n    DEBUG = True\n"
            "def create_app(config_class=Dev):\n"
            "    app = Flask(__name__)\n    app.config.from_object(config_class)\n    return app\n"
        ),
    }
    config = production(repo, files).config
    assert config.value("DEBUG") == Known(True)
    assert any("called without `config_class`" in line for line in config.evidence)


def test_config_set_in_a_helper_called_with_the_app(repo):
    files = {
        "Procfile": "web: gunicorn wsgi:application\n",
        "wsgi.py": "from core import build\napplication = build()\n",
        "core.py": (
            "from flask import Flask\nfrom settings_helpers import configure\n"
            "def build():\n    app = Flask('core')\n    configure(app)\n    return app\n"
        ),
        "settings_helpers.py": "def configure(app):\n    app.config['SECRET_KEY'] = 'k'\n",
    }
    path = production(repo, files)
    assert path.setting("SECRET_KEY").value == Known("k")
    assert [run.function.name for run in path.functions_run] == ["build", "configure"]


def test_load_dotenv_makes_the_committed_file_count(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        ".env": "APP_MODE=production\nSECRET_KEY=committed\n",
        "app.py": (
            "import os\nfrom dotenv import load_dotenv\nfrom flask import Flask\nload_dotenv()\n"
            "app = Flask(__name__)\n"
            "app.config['MODE'] = os.getenv('APP_MODE', 'dev')\n"
            "app.config['SECRET_KEY'] = os.getenv('SECRET_KEY', 'x')\n"
        ),
    }
    path = production(repo, files, variables=["SECRET_KEY"])
    assert path.setting("MODE").value.effective == Known("production")
    # python-dotenv does not override a variable that is already set.
    assert isinstance(path.setting("SECRET_KEY").value.effective, Unknown)
    assert [load.path for load in path.dotenv] == [".env"]


def test_a_committed_env_file_does_not_count_without_load_dotenv(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        ".env": "APP_MODE=production\n",
        "app.py": "import os\nfrom flask import Flask\napp = Flask(__name__)\napp.config['MODE'] = os.getenv('APP_MODE', 'dev')\n",
    }
    assert production(repo, files).setting("MODE").value.effective == Known("dev")


@pytest.mark.parametrize("guard", ['if __name__ == "__main__":', "if __name__ == '__main__':"])
def test_config_under_the_main_guard_is_not_on_the_path(repo, guard):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": f"from flask import Flask\napp = Flask(__name__)\n{guard}\n    app.config['DEBUG'] = True\n    app.run()\n",
    }
    path = production(repo, files)
    assert path.config.settings == {}
    assert not path.runs("app.py", 4)


BRANCHES = {
    "Procfile": "web: gunicorn app:app\n",
    "config.py": "class ProductionConfig:\n    DEBUG = False\nclass DevelopmentConfig:\n    DEBUG = True\n",
    "app.py": (
        "import os\nfrom flask import Flask\nfrom config import ProductionConfig, DevelopmentConfig\n"
        "app = Flask(__name__)\n"
        "if os.environ.get('FLASK_ENV') == 'production':\n"
        "    app.config.from_object(ProductionConfig)\n"
        "else:\n"
        "    app.config.from_object(DevelopmentConfig)\n"
    ),
}


def test_a_branch_on_an_unset_variable_is_decided(repo):
    config = production(repo, BRANCHES, variables=[]).config
    assert [cls.name for cls in config.selected] == ["DevelopmentConfig"]
    assert [cls.name for cls in config.unselected] == ["ProductionConfig"]
    assert config.value("DEBUG") == Known(True)


def test_a_branch_on_a_platform_variable_loads_conditionally(repo):
    config = production(repo, BRANCHES, variables=["FLASK_ENV"]).config
    assert config.selected == [] and config.unselected == []
    assert all(op.conditional for op in config.operations)
    assert config.get("DEBUG").conditional


@pytest.mark.parametrize("read", ["app.config['SECRET_KEY']", "app.config.get('SECRET_KEY')"])
def test_a_key_copied_from_the_config_keeps_its_value(repo, read):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "config.py": "import os\n\n\nclass Config:\n    SECRET_KEY = os.environ.get('SECRET_KEY') or 'dev-key'\n",
        "app.py": (
            "from flask import Flask\napp = Flask(__name__)\napp.config.from_object('config.Config')\n"
            f"app.secret_key = {read}\n"
        ),
    }
    (config,) = production(repo, files).configs
    setting = config.get("SECRET_KEY")
    assert setting.line == 4
    assert isinstance(setting.value, EnvValue) and setting.value.default == Known("dev-key")
