//! `leave-sync reindex`: lists every synced leave in the who's-out index (the team view),
//! once after upgrading from a release that did not keep it. Repeatable: the same items.

use std::io::Write;

use shared::event::InstanceRef;
use shared::ledger::{Ledger, State};

use crate::deployment::{CliError, Deployment};

/// Returns how many leaves were listed.
pub async fn run(deployment: &Deployment, out: &mut dyn Write) -> Result<usize, CliError> {
    let ledger = Ledger::new(deployment.dynamodb(), deployment.table_name()?);
    let mut listed = 0;
    for record in ledger.scan(usize::MAX).await? {
        let Some(leave) = &record.leave else {
            continue;
        };
        if record.state != State::Synced || leave.is_overtime() {
            continue;
        }
        let instance = InstanceRef {
            tenant_key: record.tenant_key.clone(),
            approval_code: record.approval_code.clone(),
            instance_code: record.instance_code.clone(),
        };
        if ledger.index_if_synced(&instance, leave).await? {
            listed += 1;
        }
    }
    let _ = writeln!(
        out,
        "✓ {listed} synced leave(s) listed in the who's-out index"
    );
    Ok(listed)
}
