//! Records the DynamoDB requests the processor makes: their operation (to count them) and
//! their body (to read what was asked, such as a lease's end).

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use serde_json::Value;

/// One request: its operation (from the `x-amz-target` header) and its JSON body.
#[derive(Debug, Clone)]
struct Request {
    op: String,
    body: Value,
}

#[derive(Debug, Clone, Default)]
pub struct DynamoCounter(Arc<Mutex<Vec<Request>>>);

impl DynamoCounter {
    fn requests(&self) -> Vec<Request> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn ops(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.op).collect()
    }

    pub fn count(&self, op: &str) -> usize {
        self.ops().iter().filter(|o| *o == op).count()
    }

    /// Every lease end (`:until`, ms since the epoch) a write asked for.
    pub fn lease_ends(&self) -> Vec<i64> {
        self.requests()
            .iter()
            .filter_map(|r| {
                r.body["ExpressionAttributeValues"][":until"]["N"]
                    .as_str()?
                    .parse()
                    .ok()
            })
            .collect()
    }

    /// The IAM grants the requests needed: `(action, resource)`, the resource `table` or
    /// `index/<name>`; a transaction needs the action of each of its writes.
    pub fn grants_needed(&self) -> std::collections::BTreeSet<(String, String)> {
        let mut needed = std::collections::BTreeSet::new();
        for r in self.requests() {
            let resource = match r.body["IndexName"].as_str() {
                Some(index) => format!("index/{index}"),
                None => "table".to_owned(),
            };
            if r.op == "TransactWriteItems" {
                for item in r.body["TransactItems"].as_array().into_iter().flatten() {
                    let Some(kind) = item.as_object().and_then(|o| o.keys().next()) else {
                        continue;
                    };
                    let action = match kind.as_str() {
                        "Put" => "PutItem",
                        "Update" => "UpdateItem",
                        "Delete" => "DeleteItem",
                        _ => "ConditionCheckItem",
                    };
                    needed.insert((format!("dynamodb:{action}"), "table".to_owned()));
                }
                continue;
            }
            needed.insert((format!("dynamodb:{}", r.op), resource));
        }
        needed
    }

    pub fn reset(&self) {
        if let Ok(mut v) = self.0.lock() {
            v.clear();
        }
    }
}

impl Intercept for DynamoCounter {
    fn name(&self) -> &'static str {
        "DynamoCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let op = target.rsplit('.').next().unwrap_or_default().to_owned();
        let body = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        if let Ok(mut v) = self.0.lock() {
            v.push(Request { op, body });
        }
        Ok(())
    }
}
