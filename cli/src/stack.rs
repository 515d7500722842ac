//! Where the CLI's settings come from: the same environment variables as the Lambda
//! functions, plus local defaults when `AWS_ENDPOINT_URL` points at a local stack (moto),
//! so `leave-sync dev`, `status`, `redrive` and `ledger` work together with no setup.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use shared::config::{EnvSource, Layered, ProcessEnv};

/// Queue and table names `leave-sync dev` uses when none are configured.
pub const DEV_QUEUE: &str = "leave-sync-dev-events";
pub const DEV_TABLE: &str = "leave-sync-dev-ledger";

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("{0}")]
    Config(#[from] shared::config::ConfigError),
    #[error(
        "cannot reach AWS ({endpoint}): {detail}. Is the local stack running (make demo starts moto), or are AWS credentials and AWS_REGION set?"
    )]
    Unreachable { endpoint: String, detail: String },
    #[error("{what} is not set and there is no local stack to default to: {hint}")]
    Missing {
        what: &'static str,
        hint: &'static str,
    },
    #[error("{0}")]
    Queue(#[from] shared::queue::QueueError),
    #[error("{0}")]
    Ledger(#[from] shared::ledger::LedgerError),
    #[error("{0}")]
    Other(String),
}

/// The AWS configuration and the environment, with local defaults layered in.
pub struct Stack {
    pub aws: SdkConfig,
    env: HashMap<String, String>,
    /// Whether the process environment is consulted after `env`.
    inherit: bool,
    sqs: aws_sdk_sqs::Client,
}

/// An environment that has nothing.
struct Empty;

impl EnvSource for Empty {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

impl Stack {
    pub async fn from_env() -> Self {
        Self::new(shared::aws::load_sdk_config().await, HashMap::new())
    }

    /// `overrides` win over the process environment (tests and `dev` use this).
    pub fn new(aws: SdkConfig, overrides: HashMap<String, String>) -> Self {
        let sqs = aws_sdk_sqs::Client::new(&aws);
        Self {
            aws,
            env: overrides,
            inherit: true,
            sqs,
        }
    }

    /// Only `vars`, never the process environment (tests).
    pub fn isolated(aws: SdkConfig, vars: HashMap<String, String>) -> Self {
        Self {
            inherit: false,
            ..Self::new(aws, vars)
        }
    }

    pub fn env(&self) -> Layered<'_> {
        if self.inherit {
            Layered(&self.env, &ProcessEnv)
        } else {
            Layered(&self.env, &Empty)
        }
    }

    pub fn var(&self, name: &str) -> Option<String> {
        self.env().var(name)
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.env.insert(name.to_owned(), value.into());
    }

    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        &self.sqs
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.aws)
    }

    /// True when AWS_ENDPOINT_URL (or an explicit endpoint) points somewhere local.
    pub fn is_local(&self) -> bool {
        self.aws.endpoint_url().is_some()
    }

    pub fn endpoint(&self) -> String {
        shared::aws::endpoint_hint(&self.aws)
    }

    /// Fails fast with a clear message when AWS cannot be reached at all.
    pub async fn check_reachable(&self) -> Result<(), StackError> {
        let probe = self.sqs.list_queues().max_results(1).send();
        match tokio::time::timeout(Duration::from_secs(10), probe).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(StackError::Unreachable {
                endpoint: self.endpoint(),
                detail: shared::aws::describe(&e),
            }),
            Err(_) => Err(StackError::Unreachable {
                endpoint: self.endpoint(),
                detail: "no answer within 10 s".into(),
            }),
        }
    }

    /// QUEUE_URL, or the dev queue on a local stack.
    pub async fn queue_url(&self) -> Result<String, StackError> {
        if let Some(url) = self.var("QUEUE_URL") {
            return Ok(url);
        }
        if !self.is_local() {
            return Err(StackError::Missing {
                what: "QUEUE_URL",
                hint: "set it to the stack's QueueUrl output",
            });
        }
        self.queue_url_by_name(DEV_QUEUE).await
    }

    /// DEAD_LETTER_QUEUE_URL, else the target of the queue's redrive policy.
    pub async fn dead_letter_url(&self, queue_url: &str) -> Result<String, StackError> {
        if let Some(url) = self.var("DEAD_LETTER_QUEUE_URL") {
            return Ok(url);
        }
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(|e| {
                StackError::Other(format!(
                    "cannot read {queue_url}: {}",
                    shared::aws::describe(&e)
                ))
            })?;
        let policy = attrs
            .attributes
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy).cloned())
            .ok_or(StackError::Missing {
                what: "DEAD_LETTER_QUEUE_URL",
                hint: "the queue has no redrive policy to find it from; set it to the stack's DeadLetterQueueUrl output",
            })?;
        let arn = serde_json::from_str::<serde_json::Value>(&policy)
            .ok()
            .and_then(|p| p["deadLetterTargetArn"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let name = arn.rsplit(':').next().unwrap_or_default().to_owned();
        self.queue_url_by_name(&name).await
    }

    async fn queue_url_by_name(&self, name: &str) -> Result<String, StackError> {
        self.sqs
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| StackError::Other(format!("queue {name}: {}", shared::aws::describe(&e))))?
            .queue_url
            .ok_or_else(|| StackError::Other(format!("queue {name} has no URL")))
    }

    /// TABLE_NAME, or the dev table on a local stack.
    pub fn table_name(&self) -> Result<String, StackError> {
        match self.var("TABLE_NAME") {
            Some(t) => Ok(t),
            None if self.is_local() => Ok(DEV_TABLE.to_owned()),
            None => Err(StackError::Missing {
                what: "TABLE_NAME",
                hint: "set it to the stack's TableName output",
            }),
        }
    }
}
