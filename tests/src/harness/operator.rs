//! What the README asks an operator to do about a parked time-off create whose outcome is
//! unknown, done the way a person would: look at the employee's profile (here, the
//! simulator's time-off events), then redrive, with `--timeoff-exists` if the badge is
//! there.

use std::collections::HashMap;

use serde_json::Value;
use shared::queue::{ATTR_FAILURE, ATTR_REDRIVE, ATTR_TIMEOFF_EXISTS, Queue, QueuedEvent};
use shared::telemetry::alert;

use super::TestStack;

impl TestStack {
    /// Redrives every dead letter parked for an unknown time-off outcome, as an operator
    /// would after looking at the employee's profile. Returns the other dead letters,
    /// removed from the DLQ, and how many were redriven.
    pub async fn resolve_unknown_timeoffs(
        &self,
    ) -> (Vec<(String, HashMap<String, String>)>, usize) {
        let queue = Queue::new(self.sqs.clone(), self.queue_url.clone());
        let mut others = Vec::new();
        let mut redriven = 0;
        for (body, mut attrs) in self.dead_letters().await {
            let unknown = attrs
                .get(ATTR_FAILURE)
                .is_some_and(|r| r.contains(alert::TIMEOFF_OUTCOME_UNKNOWN));
            if !unknown {
                others.push((body, attrs));
                continue;
            }
            let badge = self.has_timeoff_badge(&body).await;
            attrs.remove(ATTR_FAILURE);
            attrs.insert(ATTR_REDRIVE.into(), "true".into());
            if badge {
                attrs.insert(ATTR_TIMEOFF_EXISTS.into(), "true".into());
            }
            queue.send(body, attrs).await.expect("redrive");
            redriven += 1;
        }
        (others, redriven)
    }

    /// Whether the employee of the instance a queued event names shows a leave badge (a
    /// time-off event not deleted).
    async fn has_timeoff_badge(&self, body: &str) -> bool {
        let event = QueuedEvent::decode(body).expect("a queued event");
        let fields: Value = serde_json::from_str(event.event.get()).expect("its event");
        let code = fields["instance_code"].as_str().expect("an instance code");
        let Some(leave) = self.record(code).await.and_then(|r| r.leave) else {
            return false;
        };
        self.sim
            .snapshot()
            .timeoff_events
            .iter()
            .any(|t| t.open_id == leave.open_id && !t.deleted)
    }
}
