//! The reconciler's own event: not Feishu's, but queued in the same envelope so that the
//! processor and the ledger stay the only path to Feishu writes. It names an instance and
//! what the reconciler found; the processor reads the instance again before it acts, so
//! a status that changed between the scan and the processing is honoured.

use serde::{Deserialize, Serialize};

use super::domain::{DomainEvent, InstanceRef};

/// The envelope's `event_type`; no Feishu event has this name.
pub const RECONCILE: &str = "leave_sync.reconcile";

/// What the reconciler asks the processor to do about one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileAction {
    /// Approved in Feishu, not synced in the ledger.
    Sync,
    /// Revoked or withdrawn in Feishu, synced in the ledger.
    Revoke,
}

impl ReconcileAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Revoke => "revoke",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileEvent {
    pub tenant_key: String,
    pub approval_code: String,
    pub instance_code: String,
    pub action: ReconcileAction,
    /// Why, for the logs and the DLQ: what the scan saw.
    pub reason: String,
}

impl ReconcileEvent {
    pub fn instance(&self) -> InstanceRef {
        InstanceRef {
            tenant_key: self.tenant_key.clone(),
            approval_code: self.approval_code.clone(),
            instance_code: self.instance_code.clone(),
        }
    }

    pub fn into_domain(self) -> DomainEvent {
        DomainEvent::Reconciled {
            instance: self.instance(),
            action: self.action,
            reason: self.reason,
        }
    }
}
