//! Maps a Lambda SQS event onto [`shared::processor::Processor`] and its result onto a
//! partial batch response. `leave-sync dev` calls this same function with batches it
//! receives from SQS itself.

#[cfg(feature = "local")]
pub mod local;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;
use shared::processor::{Invocation, Message, Processor};
use shared::workflow::Deadline;
use std::time::Duration;
use tracing::warn;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Without a message id a failure cannot be reported for one record; failing the whole
    /// batch makes SQS deliver every record again, which processing tolerates.
    #[error("SQS record {0} has no messageId; failing the whole batch so that nothing is lost")]
    NoMessageId(usize),
}

impl From<BatchError> for lambda_runtime::Diagnostic {
    fn from(e: BatchError) -> Self {
        Self {
            error_type: "BatchError".into(),
            error_message: e.to_string(),
        }
    }
}

pub async fn handle(
    processor: &Processor,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, BatchError> {
    let (batch, context) = event.into_parts();
    let invocation = Invocation {
        id: context.request_id,
        deadline: deadline(context.deadline),
    };
    let messages = batch
        .records
        .into_iter()
        .enumerate()
        .map(|(i, m)| to_message(i, m))
        .collect::<Result<Vec<_>, _>>()?;
    let failed = processor.process_batch(&messages, &invocation).await;
    Ok(batch_response(failed))
}

/// The partial batch response: only the messages to retry.
pub fn batch_response(failed: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for id in failed {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    response
}

fn to_message(index: usize, m: SqsMessage) -> Result<Message, BatchError> {
    let message_id = m
        .message_id
        .filter(|id| !id.is_empty())
        .ok_or(BatchError::NoMessageId(index))?;
    Ok(Message {
        message_id,
        receipt_handle: m.receipt_handle.filter(|h| !h.is_empty()),
        // An absent body is processed as an empty (unreadable) one and dead-lettered.
        body: m.body.unwrap_or_default(),
        receive_count: m
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1),
        attributes: m
            .message_attributes
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.string_value?)))
            .collect(),
    })
}

/// The processor's `Timeout` in template.yaml: the deadline assumed when the runtime's
/// cannot be one (see [`Deadline::from_lambda`]).
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);

/// The invocation's deadline (milliseconds since the epoch, as Lambda gives it).
fn deadline(deadline_ms: u64) -> Deadline {
    let (deadline, assumed) = Deadline::from_lambda(deadline_ms, FUNCTION_TIMEOUT);
    if assumed {
        warn!(
            deadline_ms,
            assumed_secs = FUNCTION_TIMEOUT.as_secs(),
            "the runtime's deadline is not a Lambda deadline (an emulator?): assuming the function's timeout"
        );
    }
    deadline
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SqsEvent {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../infra/events/lambda/sqs-batch.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn sample_batch_maps_to_messages() {
        let messages: Vec<_> = sample()
            .records
            .into_iter()
            .enumerate()
            .map(|(i, m)| to_message(i, m).unwrap())
            .collect();
        assert_eq!(
            messages.len(),
            9,
            "every leave_approval* sample in infra/events"
        );
        assert_eq!(
            messages[0].message_id,
            "00000000-0000-4000-8000-000000000000"
        );
        assert_eq!(messages[0].receive_count, 1);
        assert_eq!(messages[0].attributes["event_type"], "leave_approval");
        assert!(shared::queue::QueuedEvent::decode(&messages[0].body).is_ok());
    }

    #[test]
    fn a_record_without_message_id_fails_the_batch() {
        let mut ev = sample();
        ev.records[2].message_id = None;
        let err = ev
            .records
            .into_iter()
            .enumerate()
            .map(|(i, m)| to_message(i, m))
            .collect::<Result<Vec<_>, _>>()
            .unwrap_err();
        assert!(matches!(err, BatchError::NoMessageId(2)));
    }

    #[test]
    fn response_lists_only_failures_and_never_an_empty_id() {
        let r = batch_response(vec!["a".into(), "b".into()]);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]})
        );
        assert!(batch_response(vec![]).batch_item_failures.is_empty());
    }
}
