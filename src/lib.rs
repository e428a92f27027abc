//! b24-calllist: a Bitrix24 marketplace app for call lists, and a Bitrix24 sandbox to try it against.
//!
//! Layers, each importing only those listed before it (`docs/architecture.md`; a test checks it):
//! `domain` (pure types and rules), `bitrix` (the protocol client), `store` (persistence on SQLite or
//! PostgreSQL), `portal` and `editor` (the use cases: installing, events, entering, renewing access; reading
//! and changing call lists), `web` (HTTP handlers and pages), and `startup`, `cli`, `demo` (wiring and
//! commands). Beside them, shared by all: `keys`, `signing`, `keyed_locks`, `metrics`, `settings`,
//! `telemetry`. `sandbox` is an emulated portal written from the reference; it shares nothing with the client.

pub mod bitrix;
pub mod cli;
pub mod demo;
pub mod domain;
pub mod editor;
pub mod keyed_locks;
pub mod keys;
pub mod metrics;
pub mod portal;
pub mod sandbox;
pub mod settings;
pub mod signing;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
