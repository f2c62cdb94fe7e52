//! Apps' own SQLite databases, copied from a rooted phone or a backup, read in memory
//! (`rusqlite` with its bundled SQLite; the file never touches the disk here):
//!
//! - **Google Authenticator** `databases`: table `accounts(email, secret, counter, type,
//!   issuer, original_name)`; `type` 0 TOTP, 1 HOTP; Base32 secrets; always SHA-1, 6 digits,
//!   30 s. `email` is `Issuer:name` or just the name.
//! - **Microsoft Authenticator** `PhoneFactor`: table `accounts(name, username,
//!   oath_secret_key, account_type)`; `account_type` 0 is a standard TOTP account (Base32
//!   secret), 1 a personal Microsoft account (Base64 secret, 8 digits); other types (work
//!   accounts that use Microsoft's own push) carry no OATH secret and are reported as skipped.
//! - **Stratum** `authenticator.db3`: tables `authenticator`, `category` and
//!   `authenticatorcategory`, converted exactly like a Stratum JSON backup.
//!
//! Untrusted databases are opened read-only with SQLite's defensive settings.

#[cfg(feature = "sqlite")]
pub(super) use reader::*;
#[cfg(not(feature = "sqlite"))]
pub(super) use without::*;

const MAGIC: &[u8] = b"SQLite format 3\0";

/// True when the bytes are an SQLite database.
pub(super) fn looks_like(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

#[cfg(feature = "sqlite")]
mod reader {
    use rusqlite::{Connection, OpenFlags, config::DbConfig, types::ValueRef};
    use serde_json::{Map, Value};
    use zeroize::Zeroizing;

    use super::super::common::{self, malformed};
    use super::super::{AccountEntry, Format, ImportError, ImportReport};
    use super::looks_like;
    use crate::{Algorithm, Kind, Secret};

    /// Which app's database this is, from its tables; `None` for other databases.
    pub(in super::super) fn detect(bytes: &[u8]) -> Option<Format> {
        let db = open(bytes, Format::GoogleAuthenticator).ok()?;
        let has_column = |table: &str, column: &str| has_column(&db, table, column);
        if has_column("accounts", "oath_secret_key") {
            Some(Format::MicrosoftAuthenticator)
        } else if has_column("accounts", "email") && has_column("accounts", "secret") {
            Some(Format::GoogleAuthenticator)
        } else if has_column("authenticator", "secret") {
            Some(Format::Stratum)
        } else {
            None
        }
    }

    fn open(bytes: &[u8], format: Format) -> Result<Connection, ImportError> {
        let bad = |_| malformed(format, "not a readable SQLite database");
        if !looks_like(bytes) {
            return Err(malformed(format, "not an SQLite database"));
        }
        let mut db = Connection::open_with_flags(
            ":memory:",
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(bad)?;
        db.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
            .map_err(bad)?;
        db.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)
            .map_err(bad)?;
        // No double-quoted string literals: a misspelt column is an error, not a string.
        db.set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DML, false)
            .map_err(bad)?;
        db.set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DDL, false)
            .map_err(bad)?;
        // A database in WAL mode (file format 2 in header bytes 18 and 19) cannot be opened from
        // memory; the copy we read is complete on its own, so it is read as a rollback-journal
        // database (format 1). Only the copy is changed.
        let mut copy = Zeroizing::new(bytes.to_vec());
        if copy.len() > 19 && copy[18] == 2 && copy[19] == 2 {
            copy[18] = 1;
            copy[19] = 1;
        }
        db.deserialize_read_exact(rusqlite::MAIN_DB, &copy[..], copy.len(), true)
            .map_err(bad)?;
        db.pragma_update(None, "cell_size_check", true)
            .map_err(bad)?;
        // Reading the schema now turns a damaged file into a clear error.
        db.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(bad)?;
        Ok(db)
    }

    fn has_column(db: &Connection, table: &str, column: &str) -> bool {
        db.query_row(
            "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
            [table, column],
            |row| row.get::<_, i64>(0),
        )
        .is_ok_and(|n| n > 0)
    }

    /// Every row of `table` as a JSON object of the named `columns` (null where the table lacks
    /// one), in `order` (a column name, or `rowid`). Columns are selected and read by position:
    /// the file's own column names are never decoded, since rusqlite panics on one that is not
    /// UTF-8 (found by the fuzzer).
    fn rows(
        db: &Connection,
        table: &str,
        columns: &[&str],
        order: &str,
        format: Format,
    ) -> Result<Vec<Map<String, Value>>, ImportError> {
        let err = |e: rusqlite::Error| malformed(format, format!("cannot read table {table}: {e}"));
        if !db
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |row| row.get::<_, i64>(0),
            )
            .is_ok_and(|n| n > 0)
        {
            return Err(malformed(format, format!("no table {table}")));
        }
        let select: Vec<String> = columns
            .iter()
            .map(|c| {
                if has_column(db, table, c) {
                    format!("\"{c}\"")
                } else {
                    "NULL".to_owned()
                }
            })
            .collect();
        let order = if has_column(db, table, order) {
            format!("\"{order}\"")
        } else {
            "rowid".to_owned()
        };
        let sql = format!(
            "SELECT {} FROM \"{table}\" ORDER BY {order}",
            select.join(", ")
        );
        let mut stmt = db.prepare(&sql).map_err(err)?;
        let mut out = Vec::new();
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            let mut obj = Map::new();
            for (i, name) in columns.iter().enumerate() {
                let value = match row.get_ref(i).map_err(err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::from(n),
                    ValueRef::Real(x) => Value::from(x),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Value::from(String::from_utf8_lossy(t).into_owned())
                    }
                };
                obj.insert((*name).to_owned(), value);
            }
            out.push(obj);
        }
        Ok(out)
    }

    fn text<'a>(row: &'a Map<String, Value>, key: &str) -> &'a str {
        row.get(key).and_then(Value::as_str).unwrap_or("")
    }

    fn int(row: &Map<String, Value>, key: &str) -> Option<i64> {
        row.get(key).and_then(Value::as_i64)
    }

    /// Imports Google Authenticator's `databases` file.
    pub(in super::super) fn import_google(bytes: &[u8]) -> Result<ImportReport, ImportError> {
        let format = Format::GoogleAuthenticator;
        let db = open(bytes, format)?;
        let columns = ["email", "secret", "counter", "type", "issuer"];
        let rows = rows(&db, "accounts", &columns, "_id", format)?;
        let mut report = ImportReport::default();
        for (i, row) in rows.iter().enumerate() {
            let email = text(row, "email");
            let name = match email.split_once(':') {
                Some((_, name)) if !name.contains(':') => name,
                _ => email,
            };
            let issuer = text(row, "issuer");
            let result = (|| {
                let kind = match int(row, "type") {
                    Some(0) => Kind::Totp { period: 30 },
                    Some(1) => Kind::Hotp {
                        counter: int(row, "counter")
                            .and_then(|c| u64::try_from(c).ok())
                            .unwrap_or(0),
                    },
                    _ => return Err("unsupported OTP type".to_owned()),
                };
                let secret = common::base32(text(row, "secret"))?;
                let account = common::account(issuer, name, secret, kind, Algorithm::Sha1, 6)?;
                Ok(AccountEntry::new(account))
            })();
            report.push(common::label(issuer, name, i), result);
        }
        Ok(report)
    }

    /// Imports Microsoft Authenticator's `PhoneFactor` database.
    pub(in super::super) fn import_microsoft(bytes: &[u8]) -> Result<ImportReport, ImportError> {
        let format = Format::MicrosoftAuthenticator;
        let db = open(bytes, format)?;
        let columns = ["name", "username", "oath_secret_key", "account_type"];
        let rows = rows(&db, "accounts", &columns, "_id", format)?;
        let mut report = ImportReport::default();
        for (i, row) in rows.iter().enumerate() {
            let (issuer, name) = (text(row, "name"), text(row, "username"));
            let result = (|| {
                let raw = text(row, "oath_secret_key");
                let (secret, digits) = match int(row, "account_type") {
                    Some(0) => (common::base32(raw)?, 6),
                    Some(1) => {
                        let bytes = crate::crypto::base64(raw).ok_or("the secret is not Base64")?;
                        (Secret::from_bytes(bytes.to_vec()), 8)
                    }
                    _ => {
                        return Err(
                        "a work or school account approved by Microsoft's own push; it has no code secret"
                            .to_owned(),
                    );
                    }
                };
                let kind = Kind::Totp { period: 30 };
                let account = common::account(issuer, name, secret, kind, Algorithm::Sha1, digits)?;
                Ok(AccountEntry::new(account))
            })();
            report.push(common::label(issuer, name, i), result);
        }
        Ok(report)
    }

    /// Converts Stratum's `authenticator.db3` into the JSON shape of its backups.
    pub(in super::super) fn stratum_json(bytes: &[u8]) -> Result<Value, ImportError> {
        let format = Format::Stratum;
        let db = open(bytes, format)?;
        let rename = |rows: Vec<Map<String, Value>>, names: &[(&str, &str)]| -> Value {
            Value::Array(
                rows.into_iter()
                    .map(|row| {
                        let mut out = Map::new();
                        for (from, to) in names {
                            if let Some(v) = row.get(*from) {
                                out.insert((*to).to_owned(), v.clone());
                            }
                        }
                        Value::Object(out)
                    })
                    .collect(),
            )
        };
        let columns = [
            "type",
            "issuer",
            "username",
            "secret",
            "pin",
            "algorithm",
            "digits",
            "period",
            "counter",
        ];
        let authenticators = rows(&db, "authenticator", &columns, "ranking", format)?;
        let categories =
            rows(&db, "category", &["id", "name"], "ranking", format).unwrap_or_default();
        let links = rows(
            &db,
            "authenticatorcategory",
            &["categoryId", "authenticatorSecret"],
            "ranking",
            format,
        )
        .unwrap_or_default();
        let mut file = Map::new();
        file.insert(
            "Authenticators".into(),
            rename(
                authenticators,
                &[
                    ("type", "Type"),
                    ("issuer", "Issuer"),
                    ("username", "Username"),
                    ("secret", "Secret"),
                    ("pin", "Pin"),
                    ("algorithm", "Algorithm"),
                    ("digits", "Digits"),
                    ("period", "Period"),
                    ("counter", "Counter"),
                ],
            ),
        );
        file.insert(
            "Categories".into(),
            rename(categories, &[("id", "Id"), ("name", "Name")]),
        );
        file.insert(
            "AuthenticatorCategories".into(),
            rename(
                links,
                &[
                    ("categoryId", "CategoryId"),
                    ("authenticatorSecret", "AuthenticatorSecret"),
                ],
            ),
        );
        Ok(Value::Object(file))
    }
}

/// A build without SQLite (the `sqlite` feature off) says so instead of guessing.
#[cfg(not(feature = "sqlite"))]
mod without {
    use serde_json::Value;

    use super::super::common::malformed;
    use super::super::{Format, ImportError, ImportReport};

    const WHY: &str = "this build of Twofold reads no SQLite databases (feature `sqlite` off)";

    pub(in super::super) fn detect(_bytes: &[u8]) -> Option<Format> {
        None
    }
    pub(in super::super) fn import_google(_bytes: &[u8]) -> Result<ImportReport, ImportError> {
        Err(malformed(Format::GoogleAuthenticator, WHY))
    }
    pub(in super::super) fn import_microsoft(_bytes: &[u8]) -> Result<ImportReport, ImportError> {
        Err(malformed(Format::MicrosoftAuthenticator, WHY))
    }
    pub(in super::super) fn stratum_json(_bytes: &[u8]) -> Result<Value, ImportError> {
        Err(malformed(Format::Stratum, WHY))
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::super::test_support::{B32, RAW};
    use super::super::{Format, ImportError};
    use super::*;
    use crate::Kind;
    use rusqlite::Connection;

    /// A database built with SQLite itself, returned as the bytes of its file.
    fn database(sql: &str) -> Vec<u8> {
        let mut db = Connection::open_in_memory().unwrap();
        db.execute_batch(sql).unwrap();
        db.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
    }

    #[test]
    fn google_authenticator_database() {
        let bytes = database(&format!(
            "CREATE TABLE accounts (_id INTEGER PRIMARY KEY, email TEXT NOT NULL, secret TEXT NOT NULL,
               counter INTEGER DEFAULT 0, type INTEGER, provider INTEGER DEFAULT 0, issuer TEXT, original_name TEXT);
             INSERT INTO accounts VALUES (1, 'Acme:alice', '{B32}', 0, 0, 0, 'Acme', 'Acme:alice');
             INSERT INTO accounts VALUES (2, 'bob', '{B32}', 7, 1, 0, NULL, NULL);
             INSERT INTO accounts VALUES (3, 'x', '{B32}', 0, 9, 0, NULL, NULL);"
        ));
        assert_eq!(
            super::super::detect(&bytes),
            Some(Format::GoogleAuthenticator)
        );
        let report = import_google(&bytes).unwrap();
        assert_eq!(report.entries.len(), 2);
        let a = &report.entries[0].account;
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("Acme", "alice"));
        assert_eq!(a.secret.expose(), RAW);
        assert_eq!(
            report.entries[1].account.params.kind(),
            Kind::Hotp { counter: 7 }
        );
        assert_eq!(report.skipped.len(), 1);
    }

    #[test]
    fn microsoft_authenticator_database() {
        let bytes = database(&format!(
            "CREATE TABLE accounts (_id INTEGER PRIMARY KEY, name TEXT, username TEXT,
               oath_secret_key TEXT, account_type INTEGER);
             INSERT INTO accounts VALUES (1, 'Acme', 'alice', '{B32}', 0);
             INSERT INTO accounts VALUES (2, 'Microsoft', 'me@outlook.com', 'AQIDBA==', 1);
             INSERT INTO accounts VALUES (3, 'Contoso', 'me@contoso.com', '', 2);"
        ));
        assert_eq!(
            super::super::detect(&bytes),
            Some(Format::MicrosoftAuthenticator)
        );
        let report = import_microsoft(&bytes).unwrap();
        assert_eq!(report.entries.len(), 2);
        assert_eq!(report.entries[1].account.secret.expose(), [1, 2, 3, 4]);
        assert_eq!(report.entries[1].account.params.digits(), 8);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].entry, "Contoso (me@contoso.com)");
    }

    #[test]
    fn garbage_and_truncated_databases_are_errors() {
        let bytes = database("CREATE TABLE accounts (email TEXT, secret TEXT);");
        for bad in [
            &b"SQLite format 3\0garbage"[..],
            &bytes[..bytes.len() / 2],
            b"",
        ] {
            assert!(matches!(
                import_google(bad),
                Err(ImportError::Malformed { .. })
            ));
        }
    }
}
