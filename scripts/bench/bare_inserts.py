#!/usr/bin/env python3
"""The database's own floor under an import (docs/benchmarks.md, « Ninth
round »): the rows Vigie stores for an inventory CSV set — structures,
networks, people, functions, holdings, as `inv_*` rows with their network
and evidence columns — written into the inventory's own tables and indexes
in one transaction, by the fastest path each engine offers a client:

- SQLite: Python's `executemany` (a C loop over one prepared statement),
  with Vigie's settings (WAL, `foreign_keys`, `secure_delete`);
- PostgreSQL: `COPY … FROM STDIN` through `psql`, into a fresh database.

The rows are built before the clock starts; only the writes and the commit
are timed. No validation, no assessments, no events: what a plain loader
costs, beside which Vigie's import is measured.

Then the floor of a storage Vigie does not have (« Twelfth round »): one row
per structure holding its people, functions and holdings as one JSON
document, plus the import's two events per structure as outbox rows (the
document as the snapshot's payload, its first 1,400 bytes as the
assessment's: the sizes of Vigie's own payloads for a generated set, 1.7 and
1.4 kB on average) — what writing the same set would cost if the inventory
kept documents instead of rows, events included.

    python3 scripts/bench/bare_inserts.py SET_DIR [--postgres postgres://postgres@127.0.0.1:5432]
"""

import json

import csv
import io
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

# The catalogue's default criticalities and the CSV reader of the other bare
# part, beside this file.
from fragility_plain import CRITICALITY, rows as read

NOW = "2026-11-28T00:00:00+00:00"
MIGRATIONS = os.path.join(os.path.dirname(__file__), "../../services/inventory/src/storage/migrations.rs")


def schema():
    """The inventory's DDL, read from its migrations (the same on both engines)."""
    source = open(MIGRATIONS, encoding="utf-8").read()
    return re.search(r'const SCHEMA_V1: &str = "(.*?)";', source, re.S).group(1)


def table_rows(set_dir):
    """{table: rows} as Vigie stores the set (None for NULL)."""
    network, employer = {}, {}
    structures = []
    for r in read(os.path.join(set_dir, "structures.csv")):
        network[r["structure_id"]] = r["network"]
        structures.append([r["structure_id"], r["network"], r["name"], r["legal_form"], r["siret"] or None,
                           r["rna"] or None, r["region_code"], r["department_code"], r["commune_insee"], 1, NOW])
    people = []
    for r in read(os.path.join(set_dir, "people.csv")):
        employer[r["person_id"]] = r["structure_id"]
        people.append([r["person_id"], r["structure_id"], network[r["structure_id"]], r["display_name"],
                       r["role"], r["end_date"] or None, r["email"] or None])
    functions = [[r["structure_id"], r["function"], network[r["structure_id"]],
                  int(r["criticality"] or CRITICALITY.get(r["function"], 1)), r["tools"]]
                 for r in read(os.path.join(set_dir, "functions.csv"))]
    holdings = []
    for r in read(os.path.join(set_dir, "holdings.csv")):
        structure = employer[r["person_id"]]
        holdings.append([r["person_id"], r["function"], structure, network[structure], int(r["level"]),
                         r["last_practised"] or None, "import"])
    networks = [[n, NOW] for n in sorted(set(network.values()))]
    return {"inv_networks": networks, "inv_structures": structures, "inv_people": people,
            "inv_functions": functions, "inv_holdings": holdings}


def sqlite_seconds(tables):
    with tempfile.TemporaryDirectory() as dir:
        con = sqlite3.connect(os.path.join(dir, "bare.db"), isolation_level=None)
        for pragma in ("journal_mode = WAL", "foreign_keys = ON", "secure_delete = ON"):
            con.execute(f"PRAGMA {pragma}")
        con.executescript(schema())
        started = time.perf_counter()
        con.execute("BEGIN")
        for table, rows in tables.items():
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        con.execute("COMMIT")
        elapsed = time.perf_counter() - started
        con.close()
        return elapsed


def documents(tables):
    """(document rows, outbox rows): a structure's rows as one JSON document,
    and its two events."""
    by_structure = {s[0]: {"structure": s, "people": [], "functions": [], "holdings": []}
                    for s in tables["inv_structures"]}
    # (list, table, the row's structure column, the columns the document
    # repeats from its structure and leaves out)
    for kind, table, column, repeated in (("people", "inv_people", 1, (1, 2)),
                                          ("functions", "inv_functions", 0, (0, 2)),
                                          ("holdings", "inv_holdings", 2, (2, 3))):
        for row in tables[table]:
            own = [value for i, value in enumerate(row) if i not in repeated]
            by_structure[row[column]][kind].append(own)
    docs, events = [], []
    for structure_id, doc in by_structure.items():
        body = json.dumps(doc, separators=(",", ":")).encode()
        docs.append((structure_id, doc["structure"][1], 1, body))
        events.append(("vigie.inventory.structure.inventoried.v1", structure_id, body))
        events.append(("vigie.inventory.structure.fragility_assessed.v1", structure_id, body[:1400]))
    return docs, events


def sqlite_documents_seconds(tables):
    docs, events = documents(tables)
    with tempfile.TemporaryDirectory() as dir:
        con = sqlite3.connect(os.path.join(dir, "documents.db"), isolation_level=None)
        for pragma in ("journal_mode = WAL", "foreign_keys = ON", "secure_delete = ON"):
            con.execute(f"PRAGMA {pragma}")
        con.executescript("""
            CREATE TABLE documents (structure_id TEXT PRIMARY KEY, network_id TEXT NOT NULL,
                                    version INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE INDEX documents_network ON documents (network_id);
            CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT NOT NULL,
                                 subject TEXT NOT NULL, payload BLOB NOT NULL);""")
        started = time.perf_counter()
        con.execute("BEGIN")
        con.executemany("INSERT INTO documents VALUES (?, ?, ?, ?)", docs)
        con.executemany("INSERT INTO outbox (event_type, subject, payload) VALUES (?, ?, ?)", events)
        con.execute("COMMIT")
        elapsed = time.perf_counter() - started
        con.close()
    megabytes = (sum(len(d[3]) for d in docs) + sum(len(e[2]) for e in events)) / 1e6
    return elapsed, len(docs), len(events), megabytes


def psql(url, *args, stdin=None):
    return subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", *args], input=stdin, check=True,
                          capture_output=True, text=True)


def postgres_seconds(tables, server):
    database = f"bare_inserts_{os.getpid()}"
    psql(f"{server}/postgres", "-c", f"CREATE DATABASE {database}")
    url = f"{server}/{database}"
    try:
        psql(url, stdin=schema())
        # One psql session: BEGIN, a COPY per table with its rows inline, COMMIT.
        script = io.StringIO()
        script.write("BEGIN;\n")
        for table, rows in tables.items():
            script.write(f"COPY {table} FROM STDIN WITH (FORMAT csv, NULL '\\N');\n")
            writer = csv.writer(script, lineterminator="\n")
            writer.writerows([["\\N" if v is None else v for v in row] for row in rows])
            script.write("\\.\n")
        script.write("COMMIT;\n")
        text = script.getvalue()
        started = time.perf_counter()
        psql(url, stdin=text)
        return time.perf_counter() - started
    finally:
        psql(f"{server}/postgres", "-c", f"DROP DATABASE IF EXISTS {database}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    server = "postgres://postgres@127.0.0.1:5432"
    if "--postgres" in sys.argv:
        server = sys.argv[sys.argv.index("--postgres") + 1]
    tables = table_rows(sys.argv[1])
    count = sum(len(rows) for rows in tables.values())
    print(f"{count} rows")
    print(f"SQLite, executemany, one transaction: {sqlite_seconds(tables):.2f} s")
    print(f"PostgreSQL, COPY through psql, one transaction: {postgres_seconds(tables, server):.2f} s")
    seconds, docs, events, megabytes = sqlite_documents_seconds(tables)
    print(f"SQLite, {docs} documents + {events} outbox rows ({megabytes:.0f} MB), one transaction: {seconds:.2f} s")


if __name__ == "__main__":
    main()
