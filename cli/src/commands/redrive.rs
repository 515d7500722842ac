//! `leave-sync redrive`: moves messages from the dead-letter queue back to the queue,
//! marked so that a permanently failed instance is tried again (after its cause is fixed).

use std::collections::HashMap;
use std::io::Write;

use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue};
use shared::queue::{ATTR_EVENT_ID, ATTR_EVENT_TYPE, ATTR_FAILURE, ATTR_REDRIVE};

use crate::stack::{Stack, StackError};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// List what would move, and move nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Move at most this many messages.
    #[arg(long, default_value_t = 1000)]
    pub max: usize,
}

/// Returns the number of messages moved (or listed).
pub async fn run(stack: &Stack, args: &Args, out: &mut dyn Write) -> Result<usize, StackError> {
    let queue = stack.queue_url().await?;
    let dlq = stack.dead_letter_url(&queue).await?;
    let sqs = stack.sqs();
    let sqs_err = |e: String| StackError::Other(e);
    let mut seen: HashMap<String, String> = HashMap::new();
    loop {
        if seen.len() >= args.max {
            break;
        }
        let got = sqs
            .receive_message()
            .queue_url(&dlq)
            .max_number_of_messages(10.min((args.max - seen.len()) as i32))
            .message_attribute_names("All")
            .visibility_timeout(60)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| {
                sqs_err(format!(
                    "cannot read the DLQ {dlq}: {}",
                    shared::aws::describe(&e)
                ))
            })?;
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            let (Some(id), Some(handle)) = (
                m.message_id().map(str::to_owned),
                m.receipt_handle().map(str::to_owned),
            ) else {
                continue;
            };
            if seen.contains_key(&id) {
                continue;
            }
            let attrs: HashMap<String, String> = m
                .message_attributes()
                .map(|a| {
                    a.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            let describe = format!(
                "{} {} — {}",
                attrs
                    .get(ATTR_EVENT_TYPE)
                    .map(String::as_str)
                    .unwrap_or("?"),
                attrs.get(ATTR_EVENT_ID).map(String::as_str).unwrap_or("?"),
                attrs
                    .get(ATTR_FAILURE)
                    .map(String::as_str)
                    .unwrap_or("failed after the maximum number of attempts"),
            );
            if args.dry_run {
                let _ = writeln!(out, "would move {describe}");
            } else {
                let mut send = sqs
                    .send_message()
                    .queue_url(&queue)
                    .message_body(m.body().unwrap_or_default());
                for (k, v) in attrs.iter().filter(|(k, _)| k.as_str() != ATTR_FAILURE) {
                    if let Ok(a) = MessageAttributeValue::builder()
                        .data_type("String")
                        .string_value(v)
                        .build()
                    {
                        send = send.message_attributes(k, a);
                    }
                }
                if let Ok(a) = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("true")
                    .build()
                {
                    send = send.message_attributes(ATTR_REDRIVE, a);
                }
                send.send().await.map_err(|e| {
                    sqs_err(format!(
                        "cannot send to {queue}: {}",
                        shared::aws::describe(&e)
                    ))
                })?;
                // Deleted only once it is safely on the queue.
                sqs.delete_message()
                    .queue_url(&dlq)
                    .receipt_handle(&handle)
                    .send()
                    .await
                    .map_err(|e| {
                        sqs_err(format!(
                            "moved, but cannot delete from the DLQ: {}",
                            shared::aws::describe(&e)
                        ))
                    })?;
                let _ = writeln!(out, "moved {describe}");
            }
            seen.insert(id, handle);
        }
    }
    if args.dry_run && !seen.is_empty() {
        // Make the listed messages visible again at once.
        let entries: Vec<_> = seen
            .values()
            .enumerate()
            .filter_map(|(i, h)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(h)
                    .visibility_timeout(0)
                    .build()
                    .ok()
            })
            .collect();
        for chunk in entries.chunks(10) {
            let _ = sqs
                .change_message_visibility_batch()
                .queue_url(&dlq)
                .set_entries(Some(chunk.to_vec()))
                .send()
                .await;
        }
    }
    let _ = writeln!(
        out,
        "{} {} message(s) {} {queue}",
        if args.dry_run { "would move" } else { "moved" },
        seen.len(),
        if args.dry_run { "to" } else { "back to" }
    );
    Ok(seen.len())
}
