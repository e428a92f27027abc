//! Reading every row of a list method (reference 5.4): 50 rows a page, `total` and `next` at the top
//! level. Two ways: follow `next` page by page (bounded memory), or read the first page for `total` and
//! fetch the rest 50 pages to a `batch` (fewest requests).

use std::collections::BTreeMap;

use futures_util::Stream;
use serde_json::{Map, Value};

use super::batch::{Command, MAX_COMMANDS};
use super::error::BitrixError;
use super::rest::Caller;
use super::tokens::TokenStore;

pub const PAGE_SIZE: u64 = 50;

/// Where a method puts its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// `result` is the array of rows (`crm.contact.list`, …).
    Result,
    /// `result.items` (`crm.item.list`).
    ResultItems,
}

impl Rows {
    pub fn extract(self, method: &str, result: Value) -> Result<Vec<Value>, BitrixError> {
        let rows = match self {
            Rows::Result => result,
            Rows::ResultItems => match result {
                Value::Object(mut m) => m.remove("items").unwrap_or(Value::Array(vec![])),
                other => other,
            },
        };
        match rows {
            Value::Array(rows) => Ok(rows),
            // PHP renders an empty list as [] but an empty map as {}; both mean no rows.
            Value::Object(m) if m.is_empty() => Ok(Vec::new()),
            _ => Err(BitrixError::BadResponse {
                method: method.into(),
                status: 200,
                problem: "the rows are not a list".into(),
            }),
        }
    }
}

fn with_start(params: &Map<String, Value>, start: u64) -> Value {
    let mut p = params.clone();
    p.insert("start".into(), Value::from(start));
    Value::Object(p)
}

impl<S: TokenStore> Caller<'_, S> {
    /// Every row, page by page, following `next`. Memory holds one page at a time.
    pub fn pages<'c>(
        &'c self,
        method: &'c str,
        params: Map<String, Value>,
        rows: Rows,
    ) -> impl Stream<Item = Result<Vec<Value>, BitrixError>> + 'c {
        futures_util::stream::try_unfold(Some(0u64), move |start| {
            let params = params.clone();
            async move {
                let Some(start) = start else { return Ok(None) };
                let env = self.call(method, with_start(&params, start)).await?;
                let next = env.next.filter(|n| *n > start);
                Ok(Some((rows.extract(method, env.result)?, next)))
            }
        })
    }

    /// Every row, in the fewest requests `batch` allows. With `expected` (a count seen before, e.g. a
    /// search's `total`) every page goes in batches from the start; without it, one page first tells the
    /// total. The remaining batches are sent together, the portal's bucket pacing them.
    pub async fn fetch_all(
        &self,
        method: &str,
        params: Map<String, Value>,
        rows: Rows,
        expected: Option<u64>,
    ) -> Result<Vec<Value>, BitrixError> {
        let page_command = |start: u64| Command::new(format!("p{start}"), method, with_start(&params, start));
        let mut pages: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
        let total = match expected {
            Some(n) => {
                let starts: Vec<u64> = page_starts(0, n.max(1)).take(MAX_COMMANDS).collect();
                let commands: Vec<Command> = starts.iter().map(|s| page_command(*s)).collect();
                let mut out = self.batch_once(&commands, false).await?;
                let total = out.totals.get("p0").copied().unwrap_or(n);
                for (s, c) in starts.iter().zip(&commands) {
                    pages.insert(*s, rows.extract(method, out.take(&c.key)?)?);
                }
                total
            }
            None => {
                let first = self.call(method, with_start(&params, 0)).await?;
                let total = first.total;
                pages.insert(0, rows.extract(method, first.result)?);
                match total {
                    Some(t) => t,
                    None => return Ok(pages.into_values().flatten().collect()),
                }
            }
        };
        let rest: Vec<u64> = page_starts(0, total).filter(|s| !pages.contains_key(s)).collect();
        let batches = rest.chunks(MAX_COMMANDS).map(|chunk| {
            let commands: Vec<Command> = chunk.iter().map(|s| page_command(*s)).collect();
            async move {
                let mut out = self.batch_once(&commands, false).await?;
                chunk
                    .iter()
                    .zip(&commands)
                    .map(|(s, c)| Ok((*s, rows.extract(method, out.take(&c.key)?)?)))
                    .collect::<Result<Vec<_>, BitrixError>>()
            }
        });
        for batch in futures_util::future::join_all(batches).await {
            pages.extend(batch?);
        }
        Ok(pages.into_values().flatten().collect())
    }
}

/// The `start` of every page of a list of `total` rows.
fn page_starts(from: u64, total: u64) -> impl Iterator<Item = u64> {
    (from..).map(|p| p * PAGE_SIZE).take_while(move |s| *s < total)
}
