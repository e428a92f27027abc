//! What keeps unauthenticated traffic from costing a portal's managers: every outbound check that a
//! request nobody has vouched for would cause (an iframe entry, an install, `ONAPPINSTALL`) is bounded per
//! portal and per client address; an `AUTH_ID` the portal refused is remembered for a while and not asked
//! about again; an entry whose `APPLICATION_TOKEN` does not match the stored one is refused without asking.
//! Entries the portal vouches for (the matching `APPLICATION_TOKEN` it posts with every iframe) are not
//! held back by the bounds, so forged traffic cannot lock managers out; whoever holds the application token
//! is a user of the portal, who could spend its budget with their own token anyway.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::domain::MemberId;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// Checks of unvouched entries a portal may cause: a few at once, then one every few seconds. A small part
/// of its 2-a-second budget, whatever the traffic.
const PER_PORTAL_BURST: u32 = 3;
const PER_PORTAL_EVERY: Duration = Duration::from_secs(3);
/// Checks of unvouched requests one client address may cause.
const PER_CLIENT_BURST: u32 = 10;
const PER_CLIENT_EVERY: Duration = Duration::from_secs(1);
/// How long a refused `AUTH_ID` is refused without asking.
const REFUSED_FOR: Duration = Duration::from_secs(600);

pub struct Guard {
    per_portal: Keyed<MemberId>,
    per_client: Keyed<IpAddr>,
    refused: moka::sync::Cache<[u8; 32], ()>,
}

impl Default for Guard {
    fn default() -> Self {
        let quota = |burst: u32, every: Duration| {
            Quota::with_period(every).expect("a period").allow_burst(NonZeroU32::new(burst).expect("a burst"))
        };
        Guard {
            per_portal: RateLimiter::keyed(quota(PER_PORTAL_BURST, PER_PORTAL_EVERY)),
            per_client: RateLimiter::keyed(quota(PER_CLIENT_BURST, PER_CLIENT_EVERY)),
            refused: moka::sync::Cache::builder().max_capacity(100_000).time_to_live(REFUSED_FOR).build(),
        }
    }
}

/// Why a check was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// The portal refused this very token lately.
    RefusedBefore,
    /// Too many checks lately, from this client or for this portal.
    TooMany,
}

fn fingerprint(token: &SecretString) -> [u8; 32] {
    Sha256::digest(token.expose_secret().as_bytes()).into()
}

impl Guard {
    /// May a check of `token` for `portal`, asked by `client`, be made now? `vouched` when the portal's own
    /// `APPLICATION_TOKEN` came with it.
    pub fn admit(
        &self,
        portal: &MemberId,
        client: Option<IpAddr>,
        token: &SecretString,
        vouched: bool,
    ) -> Result<(), Held> {
        if self.refused.contains_key(&fingerprint(token)) {
            return Err(Held::RefusedBefore);
        }
        if vouched {
            return Ok(());
        }
        if let Some(ip) = client
            && self.per_client.check_key(&ip).is_err()
        {
            return Err(Held::TooMany);
        }
        if self.per_portal.check_key(portal).is_err() {
            return Err(Held::TooMany);
        }
        Ok(())
    }

    /// The portal refused `token`: it is not asked about again for a while.
    pub fn refused(&self, token: &SecretString) {
        self.refused.insert(fingerprint(token), ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unvouched_checks_are_bounded_per_portal_and_refused_tokens_are_remembered() {
        let g = Guard::default();
        let p = MemberId::parse("guardportal").unwrap();
        let t = |s: &str| SecretString::from(s.to_owned());
        let admitted = (0..20).filter(|i| g.admit(&p, None, &t(&format!("t{i}")), false).is_ok()).count();
        assert_eq!(admitted, PER_PORTAL_BURST as usize, "a burst, then held");
        assert!(g.admit(&p, None, &t("genuine"), true).is_ok(), "vouched entries are not held by forged ones");
        g.refused(&t("bad"));
        assert_eq!(g.admit(&p, None, &t("bad"), true), Err(Held::RefusedBefore));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other = MemberId::parse("otherportal").unwrap();
        let from_one = (0..40)
            .filter(|i| {
                let portal = MemberId::parse(&format!("portal{i}")).unwrap();
                g.admit(&portal, Some(ip), &t(&format!("v{i}")), false).is_ok()
            })
            .count();
        assert_eq!(from_one, PER_CLIENT_BURST as usize, "one address is bounded across portals");
        assert!(g.admit(&other, Some(ip), &t("w"), true).is_ok(), "unless the portal vouches for the request");
    }
}
