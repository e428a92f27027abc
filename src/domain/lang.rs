//! The manager's language. The portal sends its UI language as `LANG`; the app speaks Russian and English.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    Ru,
    #[default]
    En,
}

impl Lang {
    /// Russian for Russian-speaking portals (`ru`, and the CIS editions that default to Russian), English
    /// otherwise.
    pub fn from_portal(code: &str) -> Lang {
        match code.trim().to_ascii_lowercase().as_str() {
            "ru" | "by" | "kz" => Lang::Ru,
            _ => Lang::En,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
