//! Revokes whose event was missed: re-read the synced instances of the horizon (each at
//! most every `recheck_every`) and queue a revoke for those Feishu shows revoked. Failed
//! and stuck items are reported for an operator, never acted on.

use jiff::{SignedDuration, Timestamp};

use super::plan;
use super::report::Attention;
use super::{ReconcileError, Reconciler, Run};
use crate::ledger::State;

impl Reconciler {
    pub(super) async fn recheck(&self, run: &mut Run) -> Result<(), ReconcileError> {
        let horizon =
            SignedDuration::try_from(self.config.revoke_horizon).unwrap_or(SignedDuration::MAX);
        let from = run.now.checked_sub(horizon).unwrap_or(Timestamp::MIN);
        let synced = self.ledger.in_state(State::Synced, from).await?;
        let due: Vec<_> = synced
            .into_iter()
            .filter(|i| plan::recheck_due(i, run.now, self.config.recheck_every))
            .map(|i| i.instance)
            .collect();
        for chunk in due.chunks(100) {
            if run.out_of_time() {
                break;
            }
            run.report.rechecked += chunk.len();
            for (instance, detail) in self.read(chunk.to_vec(), run).await? {
                self.act_on(&instance, plan::classify_synced(&detail), run)
                    .await?;
            }
        }
        for state in [State::Failed, State::Syncing, State::Revoking] {
            for item in self.ledger.in_state(state, from).await? {
                if let Some(what) = plan::needs_operator(&item, run.now_ms()) {
                    run.report.attention.push(Attention {
                        instance_code: item.instance.instance_code,
                        what,
                    });
                }
            }
        }
        Ok(())
    }
}
