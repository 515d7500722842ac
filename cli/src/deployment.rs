//! Where the CLI's settings come from: the same environment variables as the Lambda
//! functions, plus local defaults when `AWS_ENDPOINT_URL` points at a local stack (moto),
//! so `leave-sync dev`, `status`, `redrive` and `ledger` work together with no setup.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use shared::config::{EnvSource, Layered, ProcessEnv};
use shared::queue::{Queue, sqs};

/// Queue and table names `leave-sync dev` uses when none are configured.
pub const DEV_QUEUE: &str = "leave-sync-dev-events";
pub const DEV_TABLE: &str = "leave-sync-dev-ledger";

#[derive(Debug, thiserror::Error)]
pub enum CliError {
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
pub struct Deployment {
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

impl Deployment {
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
    pub async fn check_reachable(&self) -> Result<(), CliError> {
        let unreachable = |detail: String| CliError::Unreachable {
            endpoint: self.endpoint(),
            detail,
        };
        match tokio::time::timeout(Duration::from_secs(10), sqs::probe(&self.sqs)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(detail)) => Err(unreachable(detail)),
            Err(_) => Err(unreachable("no answer within 10 s".into())),
        }
    }

    /// QUEUE_URL, or the dev queue on a local stack.
    pub async fn queue_url(&self) -> Result<String, CliError> {
        if let Some(url) = self.var("QUEUE_URL") {
            return Ok(url);
        }
        if !self.is_local() {
            return Err(CliError::Missing {
                what: "QUEUE_URL",
                hint: "set it to the stack's QueueUrl output",
            });
        }
        Ok(sqs::url_of(&self.sqs, DEV_QUEUE).await?)
    }

    /// DEAD_LETTER_QUEUE_URL, else the target of the queue's redrive policy.
    pub async fn dead_letter_url(&self, queue_url: &str) -> Result<String, CliError> {
        if let Some(url) = self.var("DEAD_LETTER_QUEUE_URL") {
            return Ok(url);
        }
        let arn = self.queue(queue_url).dead_letter_target().await?.ok_or(CliError::Missing {
            what: "DEAD_LETTER_QUEUE_URL",
            hint: "the queue has no redrive policy to find it from; set it to the stack's DeadLetterQueueUrl output",
        })?;
        let name = arn.rsplit(':').next().unwrap_or_default();
        Ok(sqs::url_of(&self.sqs, name).await?)
    }

    /// The queue at `url`, on this deployment's SQS.
    pub fn queue(&self, url: &str) -> Queue {
        Queue::new(self.sqs.clone(), url)
    }

    /// TABLE_NAME, or the dev table on a local stack.
    pub fn table_name(&self) -> Result<String, CliError> {
        match self.var("TABLE_NAME") {
            Some(t) => Ok(t),
            None if self.is_local() => Ok(DEV_TABLE.to_owned()),
            None => Err(CliError::Missing {
                what: "TABLE_NAME",
                hint: "set it to the stack's TableName output",
            }),
        }
    }
}
