//! A queue message, read once: its envelope, and the domain event it announces. Pure, so
//! the processor can group a batch by ordering key before running anything.

use super::Message;
use crate::event::{DomainEvent, FeishuEvent, OrderingKey};
use crate::queue::QueuedEvent;

/// What a queue message turned out to be.
pub(super) enum Decoded {
    /// An event for a workflow.
    Event {
        envelope: QueuedEvent,
        event: Box<DomainEvent>,
    },
    /// An event type nothing handles: acknowledged and dropped.
    Ignored {
        envelope: QueuedEvent,
        reason: String,
    },
    /// Can never be processed, whatever is retried: parked with the reason.
    Unreadable {
        envelope: Option<QueuedEvent>,
        reason: String,
    },
}

impl Decoded {
    pub(super) fn of(message: &Message) -> Self {
        let envelope = match QueuedEvent::decode(&message.body) {
            Ok(e) => e,
            Err(e) => {
                return Self::Unreadable {
                    envelope: None,
                    reason: format!("unreadable queue message: {e}"),
                };
            }
        };
        let parsed = FeishuEvent::parse(&envelope.event_type, envelope.event.get()).and_then(|p| {
            p.map(|e| e.into_domain(envelope.tenant_key.as_deref()))
                .transpose()
        });
        match parsed {
            Ok(Some(event)) => Self::Event {
                envelope,
                event: Box::new(event),
            },
            Ok(None) => Self::Ignored {
                reason: format!("event type {} is not handled", envelope.event_type),
                envelope,
            },
            Err(e) => Self::Unreadable {
                envelope: Some(envelope),
                reason: format!("parse: {e}"),
            },
        }
    }

    pub(super) fn envelope(&self) -> Option<&QueuedEvent> {
        match self {
            Self::Event { envelope, .. } | Self::Ignored { envelope, .. } => Some(envelope),
            Self::Unreadable { envelope, .. } => envelope.as_ref(),
        }
    }

    pub(super) fn ordering_key(&self) -> Option<OrderingKey> {
        match self {
            Self::Event { event, .. } => event.ordering_key(),
            _ => None,
        }
    }
}

/// Groups decoded messages by ordering key, keeping their order; messages without a key
/// form groups of one.
pub(super) fn group(messages: &[Message]) -> Vec<Vec<(&Message, Decoded)>> {
    let mut groups: Vec<Vec<(&Message, Decoded)>> = Vec::new();
    let mut index: std::collections::HashMap<OrderingKey, usize> = Default::default();
    for message in messages {
        let decoded = Decoded::of(message);
        match decoded.ordering_key() {
            Some(key) => match index.get(&key) {
                Some(&i) => groups[i].push((message, decoded)),
                None => {
                    index.insert(key, groups.len());
                    groups.push(vec![(message, decoded)]);
                }
            },
            None => groups.push(vec![(message, decoded)]),
        }
    }
    groups
}
