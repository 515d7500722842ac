//! `leave-sync doctor`: checks the configuration, the credentials, the AWS resources and
//! every Feishu permission the product needs, one line each, with the fix for a failure.
//!
//! [`settings`] checks what the functions would load, [`aws`] the table and queues,
//! [`feishu`] the token and one harmless call per scope.

mod aws;
mod feishu;
mod settings;

use std::io::Write;

use crate::deployment::Deployment;

/// The lines of the report, and how many checks failed.
pub(crate) struct Report<'a> {
    out: &'a mut dyn Write,
    failures: usize,
}

impl Report<'_> {
    pub(crate) fn pass(&mut self, what: &str, detail: &str) {
        let _ = writeln!(
            self.out,
            "✓ {what}{}",
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        );
    }

    pub(crate) fn fail(&mut self, what: &str, problem: &str, fix: &str) {
        self.failures += 1;
        let _ = writeln!(self.out, "✗ {what}: {problem}\n    fix: {fix}");
    }
}

/// Returns whether every check passed.
pub async fn run(deployment: &mut Deployment, out: &mut dyn Write) -> bool {
    let mut r = Report { out, failures: 0 };
    // On a local stack, check the resources `leave-sync dev` uses.
    if let Ok(url) = deployment.queue_url().await {
        deployment.set("QUEUE_URL", url);
    }
    if let Ok(table) = deployment.table_name() {
        deployment.set("TABLE_NAME", table);
    }
    settings::check_ingress(deployment, &mut r).await;
    settings::check_processor(deployment, &mut r).await;
    if aws::check_reachable(deployment, &mut r).await {
        aws::check_table(deployment, &mut r).await;
        aws::check_queues(deployment, &mut r).await;
    }
    feishu::check(deployment, &mut r).await;
    let _ = writeln!(
        r.out,
        "{}",
        if r.failures == 0 {
            "all checks passed".to_owned()
        } else {
            format!("{} check(s) failed", r.failures)
        }
    );
    r.failures == 0
}
