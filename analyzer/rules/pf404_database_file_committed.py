from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from analyzer.fixes.deployfiles import shell_word
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_EXTENSIONS = (".db", ".sqlite", ".sqlite3")
# Windows Explorer's thumbnail caches: `.db` files that are not databases.
NOT_DATABASES = frozenset({"thumbs.db", "ehthumbs.db", "ehthumbs_vista.db"})
# Extensions that are never SQLite databases: skipping them keeps the header check to a few files.
KNOWN_FORMATS = re.compile(
    r"\.(py[ciw]?|txt|md|rst|html?|jinja2?|j2|s?css|sass|less|[cm]?js|jsx|tsx?|vue|svelte|json|ya?ml|toml|cfg|ini"
    r"|conf|lock|sh|bash|ps1|bat|cmd|env|in|mako|sql|csv|tsv|xml|svg|png|jpe?g|gif|webp|ico|bmp|tiff?|pdf|woff2?"
    r"|ttf|otf|eot|map|mp[34]|wav|ogg|webm|zip|t?gz|bz2|xz|whl|tar|ipynb|go|rs|rb|java|kt|[ch]|[ch]pp|php|lua"
    r"|pem|crt|key|pub|log|gitignore|gitattributes|dockerignore|editorconfig)$"
)
# The smallest SQLite file is one page; smaller files cannot be databases.
MIN_DATABASE_BYTES = 512
DATA_FILE = SQLITE_HEADER + b"\x10\x00\x01\x01\x00@  " + b"\x00" * 496


class DatabaseFileCommitted(Rule):
    """
    ## What it does
    Flags a SQLite database file committed to the repository: `*.db`,
    `*.sqlite`, `*.sqlite3`, or any file that starts with the SQLite header
    (`SQLite format 3`), whatever its name.

    ## Why is this bad?
    Its rows (users, password hashes, e-mail addresses) ship to everyone who can
    read the repository. In production the app "works" only because the file
    is copied into the image: every deploy resets the database to the committed
    copy and every write since the last deploy is lost.

    ## Example
    ```
    instance/app.db        # committed
    ```

    ## Use instead
    ```
    # .gitignore
    *.db
    instance/
    ```

    ## How to fix
    Remove the file from git (`git rm --cached` the file the finding names, and list it in `.gitignore`) and create the data through migrations or a seed command against the production database.

    ## References
    - SQLite: Database file format (the 16-byte header)
    - Railway: Volumes, Postgres
    """

    id = "PF404"
    slug = "database-file-committed"
    severity = Severity.HIGH
    title = "Database file committed"

    def check(self, project: Project) -> Iterator[Finding]:
        for path, full in project.files.paths.items():
            name = posixpath.basename(path).lower()
            if name in NOT_DATABASES:
                continue
            if name.endswith(SQLITE_EXTENSIONS):
                yield self._finding(path, "a SQLite database file")
                continue
            if KNOWN_FORMATS.search(name):
                continue
            try:
                if full.stat().st_size < MIN_DATABASE_BYTES or not full.is_file():
                    continue
                with full.open("rb") as handle:
                    header = handle.read(len(SQLITE_HEADER))
            except OSError:
                continue
            if header == SQLITE_HEADER:
                yield self._finding(path, "a SQLite database (its header says so)")

    def _finding(self, path: str, what: str) -> Finding:
        return self.finding(
            f"`{path}` is {what}: its rows ship with the repository and every deploy resets the data to them;"
            f" untrack it with `git rm --cached {shell_word(path)}` and list it in `.gitignore`",
            path,
            subject=path,
        )

    VALID = [
        Example(
            {
                ".gitignore": "*.db\ninstance/\n",
                "app.py": "from flask import Flask\napp = Flask(__name__)\n",
                "migrations/versions/1a2b_users.py": "revision = '1a2b'\n",
            }
        ),
        Example({"assets/Thumbs.db": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600}),
        Example(
            {"schema.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY);\n", "seed.py": "import sqlite3\n"},
            note="SQL text, not a database",
        ),
        Example({"data/notes": "SQLite format 3 is the header of a database file\n" * 20}, note="text, no NUL byte"),
        Example({"data/blob.bin": b"\x00" * 1024}),
    ]
    INVALID = [
        Example(
            {"instance/app.db": DATA_FILE, "app.py": "from flask import Flask\napp = Flask(__name__)\n"},
            expect="`instance/app.db` is a SQLite database file",
        ),
        Example({"db.sqlite3": b""}, note="an empty file still resets the data on every deploy"),
        Example({"backend/data/store.sqlite": DATA_FILE}, app_root="backend"),
        Example(
            {"data/production": DATA_FILE, "app.py": "import sqlite3\nconn = sqlite3.connect('data/production')\n"},
            expect="`data/production` is a SQLite database (its header says so)",
        ),
        Example({"var/cache.bak": DATA_FILE}, expect="`var/cache.bak`"),
    ]
