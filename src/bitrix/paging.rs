//! Reading every row of a list method (reference 5.4): 50 rows a page, `total` and `next` at the top
//! level. Two ways: follow `next` page by page (bounded memory), or read the first page for `total` and
//! fetch the rest 50 pages to a `batch` (fewest requests).

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

    /// Every row, in the fewest requests: the first page gives `total`, the rest go 50 pages to a batch.
    pub async fn fetch_all(
        &self,
        method: &str,
        params: Map<String, Value>,
        rows: Rows,
    ) -> Result<Vec<Value>, BitrixError> {
        let first = self.call(method, with_start(&params, 0)).await?;
        let total = first.total;
        let mut all = rows.extract(method, first.result)?;
        let Some(total) = total.filter(|t| *t > all.len() as u64) else { return Ok(all) };
        let starts: Vec<u64> = (1..).map(|p| p * PAGE_SIZE).take_while(|s| *s < total).collect();
        for chunk in starts.chunks(MAX_COMMANDS) {
            let commands: Vec<Command> =
                chunk.iter().map(|s| Command::new(format!("p{s}"), method, with_start(&params, *s))).collect();
            let mut out = self.batch_once(&commands, false).await?;
            for c in &commands {
                all.extend(rows.extract(method, out.take(&c.key)?)?);
            }
        }
        Ok(all)
    }
}
