/**
 * The ledger's SQLite schema, versioned: an ordered list of migrations, each run once per
 * object, in order, inside one transaction with the version it reaches. An object created
 * by any earlier version of this code catches up the first time it wakes, so a column
 * added next year reaches the objects of today (cloudflare/agents keeps a schema version
 * for the same reason). Never edit a migration that has shipped: add the next one.
 * Tables and columns: docs/storage-schema.md, "Ledger".
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the tables as the first ledger made them, with no version kept. `IF NOT EXISTS`,
  // because objects made before versioning have them already.
  `CREATE TABLE IF NOT EXISTS tokens (
    ref TEXT PRIMARY KEY,
    tenant TEXT,
    user TEXT,
    issued_at INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER,
    keep_until INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS users (
    tenant TEXT NOT NULL,
    user TEXT NOT NULL,
    revoked_before INTEGER NOT NULL,
    keep_until INTEGER NOT NULL,
    PRIMARY KEY (tenant, user)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS sessions (
    key TEXT PRIMARY KEY,
    sid TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'ended')),
    tenant TEXT NOT NULL,
    user TEXT NOT NULL,
    ended_at INTEGER,
    keep_until INTEGER NOT NULL
  ) WITHOUT ROWID;`,
  // 2: a user's sessions found without a scan, to keep them to MAX_SESSIONS_PER_USER.
  "CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (tenant, user, keep_until)",
  // 3: a revocation by a scoped caller of a token never recorded covers its tenants only
  // (a JSON array; NULL, as every earlier row has it, covers every tenant).
  "ALTER TABLE tokens ADD COLUMN revoked_for TEXT",
];

/** The version an object's schema is at once migrated. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the object's schema to SCHEMA_VERSION: reads its version (0 when it has none),
 * runs every later migration in order and records the new version, all in one
 * transaction, so an object is never left half-way. Synchronous, for the constructor.
 * An object at a version newer than this code knows (a rollback) is left as it is.
 */
export function migrate(storage: DurableObjectStorage): number {
  return storage.transactionSync(() => {
    const { sql } = storage;
    sql.exec("CREATE TABLE IF NOT EXISTS ledger_schema (version INTEGER NOT NULL)");
    const current = sql.exec<{ version: number }>("SELECT version FROM ledger_schema").toArray()[0]?.version;
    const from = current ?? 0;
    for (const [index, migration] of MIGRATIONS.entries()) {
      if (index >= from) sql.exec(migration);
    }
    if (current === undefined) sql.exec("INSERT INTO ledger_schema (version) VALUES (?)", SCHEMA_VERSION);
    else if (current < SCHEMA_VERSION) sql.exec("UPDATE ledger_schema SET version = ?", SCHEMA_VERSION);
    return Math.max(from, SCHEMA_VERSION);
  });
}
