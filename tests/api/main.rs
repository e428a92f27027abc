//! The one integration-test binary: every module is a feature's story, told over real HTTP and real databases.

mod abuse;
mod architecture;
mod browser;
mod client;
mod crash;
mod demo;
mod demo_database;
mod error_pages;
mod front_door;
mod harness;
mod helpers;
mod metrics;
mod outage;
mod pages;
mod placements;
mod renewal;
mod sandbox;
mod scale;
mod screens;
mod secrets_in_logs;
mod serve;
mod settings_doc;
mod soak;
mod store;
mod webdriver;
