//! One-line deliveries for scenarios: `stack.approve(&leave).await.assert_done()`, so a
//! test reads as given / when / then.

use serde_json::Value;

use super::{Msg, TestStack};
use crate::events::{self, LeaveSpec};
use crate::moto::unique;
use crate::sim::Snapshot;
use crate::sim::api::{ATTENDANCE_CREATE, MESSAGE_SEND, TIMEOFF_CREATE};

/// One message handed to the processor, and whether it came back.
#[must_use = "assert how the delivery ended"]
#[derive(Debug)]
pub struct Delivery {
    pub msg: Msg,
    retried: bool,
}

impl Delivery {
    /// The processor is done with it (synced, skipped or parked): deleted from the queue.
    /// Returns the message, for a redelivery.
    #[track_caller]
    pub fn assert_done(self) -> Msg {
        assert!(
            !self.retried,
            "expected done, was left on the queue for a retry"
        );
        self.msg
    }

    pub fn is_retried(&self) -> bool {
        self.retried
    }

    /// Left on the queue: SQS will deliver it again.
    #[track_caller]
    pub fn assert_retried(self) -> Msg {
        assert!(self.retried, "expected a retry, was deleted from the queue");
        self.msg
    }
}

/// Several messages in one Lambda invocation.
#[must_use = "assert how the batch ended"]
#[derive(Debug)]
pub struct Batch {
    pub msgs: Vec<Msg>,
    pub failed: Vec<String>,
}

impl Batch {
    #[track_caller]
    pub fn assert_done(self) {
        assert!(
            self.failed.is_empty(),
            "left for a retry: {:?}",
            self.failed
        );
    }

    /// The messages left on the queue.
    pub fn retried(&self) -> Vec<Msg> {
        self.msgs
            .iter()
            .filter(|m| self.failed.contains(&m.id))
            .cloned()
            .collect()
    }
}

impl TestStack {
    /// The approval of `leave`, as its `leave_approvalV2` event (the twin that is
    /// processed at once; its `leave_approval` twin waits for it).
    pub async fn approve(&self, leave: &LeaveSpec) -> Delivery {
        self.deliver(&events::leave_v2(leave, &unique("v2"))).await
    }

    /// The approval of `leave`, as its `leave_approval` (V1) event after it waited for
    /// its twin as long as Feishu retries (applied alone, unless the ledger knows it).
    pub async fn approve_v1(&self, leave: &LeaveSpec) -> Delivery {
        let msg = self.msg(&events::leave_v1(leave, &unique("v1")));
        self.send(msg.after_twin_wait()).await
    }

    /// "Approved, then revoked" for `leave`'s instance.
    pub async fn revoke(&self, leave: &LeaveSpec) -> Delivery {
        self.deliver(&events::revert(&leave.instance, &unique("rv")))
            .await
    }

    /// Any webhook body, as the ingress would queue it, in an invocation of its own.
    pub async fn deliver(&self, body: &Value) -> Delivery {
        self.send(self.msg(body)).await
    }

    /// The same body again in a new SQS message: Feishu's retry after a lost 200, or SQS
    /// delivering a message twice.
    pub async fn redeliver(&self, msg: &Msg) -> Delivery {
        self.send(Msg::new(msg.body.clone())).await
    }

    /// `body`, delivered again while the processor leaves it for a retry, at most
    /// `deliveries` times in all; asserts that it ended done.
    pub async fn deliver_until_done(&self, body: &Value, deliveries: u32) -> Msg {
        let mut delivery = self.deliver(body).await;
        for _ in 1..deliveries {
            if !delivery.is_retried() {
                break;
            }
            let msg = delivery.assert_retried();
            delivery = self.redeliver(&msg).await;
        }
        delivery.assert_done()
    }

    /// `msg` in an invocation of its own, with 30 s left.
    pub async fn send(&self, msg: Msg) -> Delivery {
        let failed = self.invoke(std::slice::from_ref(&msg)).await;
        Delivery {
            retried: failed.contains(&msg.id),
            msg,
        }
    }

    /// The messages the processor put back on the queue to wait for their twin, once
    /// they are due (the test stack's twin wait is a second, and doubles), removed from
    /// the queue.
    pub async fn deferred(&self) -> Vec<Msg> {
        let queue = shared::queue::Queue::new(self.sqs.clone(), self.queue_url.clone());
        let mut out = Vec::new();
        loop {
            let got = queue.receive(10, 2, None).await.expect("receive");
            if got.is_empty() {
                // Delayed ones count in the depth: wait for those too.
                let (waiting, in_flight) = queue.depth().await.expect("depth");
                if waiting + in_flight == 0 {
                    return out;
                }
                continue;
            }
            let handles: Vec<&str> = got.iter().map(|m| m.receipt_handle.as_str()).collect();
            queue.delete(&handles).await.expect("delete");
            out.extend(got.into_iter().map(|m| Msg {
                id: m.message_id,
                body: m.body,
                attrs: m.attributes,
                receive_count: 1,
            }));
        }
    }

    /// `msgs` in one invocation.
    pub async fn send_batch(&self, msgs: Vec<Msg>) -> Batch {
        let failed = self.invoke(&msgs).await;
        Batch { msgs, failed }
    }
}

/// Writes that took effect on one API.
pub fn writes(s: &Snapshot, api: &str) -> u32 {
    s.writes.get(api).copied().unwrap_or(0)
}

/// The three writes of one synced leave happened exactly once each, and nothing else.
#[track_caller]
pub fn assert_synced_once(s: &Snapshot) {
    assert_eq!(
        writes(s, ATTENDANCE_CREATE),
        1,
        "attendance writes: {:?}",
        s.writes
    );
    assert_eq!(
        writes(s, TIMEOFF_CREATE),
        1,
        "time-off writes: {:?}",
        s.writes
    );
    assert_eq!(writes(s, MESSAGE_SEND), 1, "messages: {:?}", s.writes);
    assert_eq!(s.attendance.len(), 1);
    assert_eq!(s.timeoff_events.len(), 1);
    assert_eq!(s.messages.len(), 1);
}
