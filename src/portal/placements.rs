//! The app's places in the CRM: at every install it binds itself, with the portal's token, to the contact and
//! company lists' row menus and toolbars and to their cards' tabs, with titles in Russian and English. What
//! is bound already stays; a refusal (the app lacks the `placement` scope, say) is logged and recorded for the
//! administrator, and the app still works from its own menu.

use super::Portals;
use crate::bitrix::methods::app::placement_bind_command;
use crate::bitrix::{Auth, TokenOwner};
use crate::domain::{AuditAction, AuditDetails, AuditEntry, AuditOutcome, Placement, PlacementKind, PlacementsBound};
use crate::store::Portal;

fn titles(p: Placement) -> (&'static str, &'static str) {
    match p.kind {
        PlacementKind::ListMenu => ("Add to a call list", "Добавить в список обзвона"),
        PlacementKind::DetailTab | PlacementKind::ListToolbar => ("Call lists", "Списки обзвона"),
    }
}

impl Portals {
    /// Binds every place the app is not bound to yet, in one `batch`, and records how it went.
    pub(super) async fn bind_placements(&self, portal: &Portal) -> PlacementsBound {
        let caller = self.bitrix.caller(
            portal.member_id.clone(),
            portal.client_endpoint.clone(),
            Auth::Stored(TokenOwner::Portal(portal.member_id.clone())),
        );
        let handler = self.app_url.as_str();
        let mut outcome = PlacementsBound::default();
        let existing = match caller.placement_get().await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(member_id = %portal.member_id, error = %e, "cannot read the app's placements");
                outcome.error = Some(e.kind());
                self.record_placements(portal, &outcome).await;
                return outcome;
            }
        };
        let missing: Vec<Placement> = Placement::ALL
            .into_iter()
            .filter(|p| !existing.iter().any(|(code, h)| code == p.code() && h == handler))
            .collect();
        outcome.bound = Placement::ALL.iter().filter(|p| !missing.contains(p)).map(|p| p.code().to_owned()).collect();
        if !missing.is_empty() {
            let commands: Vec<_> = missing
                .iter()
                .map(|p| {
                    let (en, ru) = titles(*p);
                    placement_bind_command(p.code(), p.code(), handler, en, ru)
                })
                .collect();
            match caller.batch_once(&commands, false).await {
                Ok(mut out) => {
                    for p in &missing {
                        match out.take(p.code()) {
                            Ok(_) => outcome.bound.push(p.code().to_owned()),
                            Err(e) if outcome.error.is_none() => outcome.error = Some(e.kind()),
                            Err(_) => {}
                        }
                    }
                }
                Err(e) => outcome.error = Some(e.kind()),
            }
        }
        if let Some(e) = &outcome.error {
            tracing::warn!(member_id = %portal.member_id, error = %e, "the app could not bind all its places in the CRM");
        }
        self.record_placements(portal, &outcome).await;
        outcome
    }

    async fn record_placements(&self, portal: &Portal, outcome: &PlacementsBound) {
        let entry = AuditEntry {
            action: AuditAction::PortalPlacements,
            outcome: if outcome.error.is_some() { AuditOutcome::Refused } else { AuditOutcome::Done },
            user: None,
            list_id: None,
            details: AuditDetails::Placements(outcome.clone()),
        };
        if let Err(e) = self.store.record(&portal.member_id, &entry).await {
            tracing::error!(error = %e, "cannot record the app's placements");
        }
    }

    /// Why the app's places in the CRM could not all be bound at the last install, if they could not: the
    /// error code, for the administrator's banner.
    pub async fn placements_refused(&self, portal: &Portal) -> Option<String> {
        let records = self.store.audit(&portal.member_id, None, 50).await.ok()?;
        let last = records.iter().find(|r| r.entry.action == AuditAction::PortalPlacements)?;
        match &last.entry.details {
            AuditDetails::Placements(p) => p.error.clone(),
            _ => None,
        }
    }
}
