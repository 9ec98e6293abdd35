"""The test database as another process can open it: for tests that run workers as subprocesses."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

Query = Callable[[str], list[tuple[object, ...]]]


def database_for_subprocesses(folder: Path) -> tuple[str, Query]:
    """(DATABASE_URL a subprocess can use, a query on what it writes there).

    SQLite's test database lives in memory: it is copied to a file in `folder` (with what the test
    has written so far), and the query reads that file. PostgreSQL's test database is shared as it
    is (the test must be `transaction=True` so that the subprocess sees committed rows).
    """
    if connection.vendor == "sqlite":
        path = folder / "shared.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()

        def query_file(sql: str) -> list[tuple[object, ...]]:
            with sqlite3.connect(path, timeout=10) as reader:
                return reader.execute(sql).fetchall()

        return f"sqlite:///{path}", query_file
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    url = f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"

    def query_test_db(sql: str) -> list[tuple[object, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())

    return url, query_test_db
