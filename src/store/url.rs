//! Where the data lives: a SQLite file or a PostgreSQL server, parsed from `DATABASE_URL` once.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A database the store can open.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file; its folder and the file are created on first start.
    Sqlite { path: PathBuf },
    /// A PostgreSQL URL, kept whole (it may carry a password, so it is never printed).
    Postgres { url: String },
}

/// Why a text is not a database URL; the caller names the variable it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadDatabaseUrl {
    #[error("is empty")]
    Empty,
    #[error("names no SQLite file")]
    NoSqliteFile,
    #[error("is not a valid URL ({0})")]
    Malformed(String),
    #[error("has an unsupported scheme `{0}`")]
    UnsupportedScheme(String),
}

impl DatabaseUrl {
    pub fn parse(s: &str) -> Result<DatabaseUrl, BadDatabaseUrl> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("sqlite://").or_else(|| s.strip_prefix("sqlite:")) {
            // Query options (?mode=…) are ours to set; only the path is taken.
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(BadDatabaseUrl::NoSqliteFile);
            }
            return Ok(DatabaseUrl::Sqlite { path: PathBuf::from(path) });
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            url::Url::parse(s).map_err(|e| BadDatabaseUrl::Malformed(e.to_string()))?;
            return Ok(DatabaseUrl::Postgres { url: s.to_owned() });
        }
        if s.is_empty() {
            return Err(BadDatabaseUrl::Empty);
        }
        Err(BadDatabaseUrl::UnsupportedScheme(s.split(':').next().unwrap_or_default().to_owned()))
    }
}

impl FromStr for DatabaseUrl {
    type Err = BadDatabaseUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatabaseUrl::parse(s)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres { .. } => f.write_str("postgres://[redacted]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_scheme_is_named() {
        assert_eq!(DatabaseUrl::parse("mysql://x"), Err(BadDatabaseUrl::UnsupportedScheme("mysql".into())));
        assert_eq!(DatabaseUrl::parse("sqlite://:memory:"), Err(BadDatabaseUrl::NoSqliteFile));
    }

    #[test]
    fn the_postgres_url_is_never_printed() {
        let url = DatabaseUrl::parse("postgres://u:hunter2@db/x").unwrap();
        assert!(!format!("{url:?}").contains("hunter2"));
    }
}
