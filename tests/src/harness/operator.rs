//! What the README asks an operator to do about a parked time-off create whose outcome is
//! unknown, done the way `leave-sync redrive` does it: find out whether the event exists
//! (here, the simulator's time-off events stand in for the employee's calendar), record
//! that in the ledger for the attempt that was parked, then redrive.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use shared::event::InstanceRef;
use shared::ledger::TimeoffResolution;
use shared::queue::{ATTR_FAILURE, ATTR_REDRIVE, Queue, QueuedEvent};
use shared::telemetry::alert;

use super::TestStack;

type DeadLetter = (String, HashMap<String, String>);

impl TestStack {
    /// Resolves and redrives every dead letter parked for an unknown time-off outcome.
    /// Returns the other dead letters, removed from the DLQ, and how many were redriven.
    pub async fn resolve_unknown_timeoffs(&self) -> (Vec<DeadLetter>, usize) {
        let queue = Queue::new(self.sqs.clone(), self.queue_url.clone());
        let (mut others, mut redriven) = (Vec::new(), 0);
        let mut resolved: BTreeSet<String> = BTreeSet::new();
        for (body, mut attrs) in self.dead_letters().await {
            let unknown = attrs
                .get(ATTR_FAILURE)
                .is_some_and(|r| r.contains(alert::TIMEOFF_OUTCOME_UNKNOWN));
            if !unknown {
                others.push((body, attrs));
                continue;
            }
            let instance = instance_of(&body);
            if resolved.insert(instance.instance_code.clone()) {
                self.resolve(&instance).await;
            }
            attrs.remove(ATTR_FAILURE);
            attrs.insert(ATTR_REDRIVE.into(), "true".into());
            queue.send(body, attrs).await.expect("redrive");
            redriven += 1;
        }
        (others, redriven)
    }

    /// Records what the "calendar" shows for the parked attempt (as `redrive
    /// --timeoff-missing` / `--timeoff-exists` do). A newer attempt since, or none parked,
    /// leaves the ledger as it is.
    async fn resolve(&self, instance: &InstanceRef) {
        let Some(record) = self.ledger.get(instance).await.expect("read the ledger") else {
            return;
        };
        let (Some(seen), Some(leave)) = (record.timeoff_attempted_at, record.leave) else {
            return;
        };
        let exists = self
            .sim
            .snapshot()
            .timeoff_events
            .iter()
            .any(|t| t.open_id == leave.open_id && !t.deleted);
        let resolution = if exists {
            TimeoffResolution::Exists {
                timeoff_event_id: None,
            }
        } else {
            TimeoffResolution::Missing
        };
        let _ = self
            .ledger
            .resolve_timeoff(instance, &seen, &resolution)
            .await;
    }
}

/// The instance a queued event names (with the ledger's tenant).
fn instance_of(body: &str) -> InstanceRef {
    let event = QueuedEvent::decode(body).expect("a queued event");
    let fields: Value = serde_json::from_str(event.event.get()).expect("its event");
    TestStack::instance(fields["instance_code"].as_str().expect("an instance code"))
}
