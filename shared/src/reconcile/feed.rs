//! Each difference goes on the events queue as a `leave_sync.reconcile` event, so the
//! processor and the ledger stay the only path to Feishu writes: a reconcile that races a
//! webhook event for the same instance meets it at the ledger's claim.

use serde_json::value::RawValue;

use super::report::Enqueued;
use super::{ReconcileError, Reconciler, Run};
use crate::event::{InstanceRef, RECONCILE, ReconcileAction, ReconcileEvent};
use crate::queue::{ENVELOPE_VERSION, QueuedEvent, Schema};

impl Reconciler {
    pub(super) async fn feed(
        &self,
        instance: &InstanceRef,
        action: ReconcileAction,
        reason: String,
        run: &mut Run,
    ) -> Result<(), ReconcileError> {
        if !run.options.dry_run {
            let event = ReconcileEvent {
                tenant_key: instance.tenant_key.clone(),
                approval_code: instance.approval_code.clone(),
                instance_code: instance.instance_code.clone(),
                action,
                reason: reason.clone(),
            };
            let body = RawValue::from_string(
                serde_json::to_string(&event).map_err(crate::queue::QueueError::Encode)?,
            )
            .map_err(crate::queue::QueueError::Encode)?;
            self.queue
                .enqueue(&QueuedEvent {
                    v: ENVELOPE_VERSION,
                    // One per run and instance: the ledger keys the work, not this id.
                    event_id: format!(
                        "reconcile-{}-{}-{}",
                        action.as_str(),
                        run.now_ms(),
                        instance.instance_code
                    ),
                    event_type: RECONCILE.to_owned(),
                    schema: Schema::V2,
                    tenant_key: Some(instance.tenant_key.clone()),
                    app_id: None,
                    sent_at: None,
                    received_at: run.now,
                    event: body,
                })
                .await?;
        }
        run.report.enqueued.push(Enqueued {
            instance_code: instance.instance_code.clone(),
            approval_code: instance.approval_code.clone(),
            action,
            reason,
        });
        Ok(())
    }
}
