//! New approvals whose events never arrived: list a definition's instances window by
//! window, read those the ledger has never seen, queue the approved ones. The checkpoint
//! moves after each window, so a run cut short resumes where it stopped.

use std::collections::HashSet;

use futures_util::{StreamExt, stream};
use jiff::Timestamp;

use super::plan::{self, Finding};
use super::report::Window;
use super::{READ_CONCURRENCY, ReconcileError, Reconciler, Run};
use crate::event::InstanceRef;
use crate::feishu::approval::Instance;

/// "instance code not found" (doc "获取单个审批实例详情").
const INSTANCE_NOT_FOUND: i64 = 1390003;

impl Reconciler {
    pub(super) async fn discover(
        &self,
        approval_code: &str,
        tenant: &str,
        run: &mut Run,
    ) -> Result<(), ReconcileError> {
        let checkpoint = self.ledger.checkpoint(approval_code).await?;
        let c = &self.config;
        let from = plan::scan_from(
            checkpoint,
            run.options.since,
            c.lookback,
            c.backfill,
            run.now_ms(),
        );
        let to = run.now_ms();
        let window = run.report.windows.len();
        run.report.windows.push(Window {
            approval_code: approval_code.to_owned(),
            from: stamp(from),
            to: stamp(to),
            complete: false,
        });
        let mut seen = HashSet::new();
        for slice in plan::slices(from, to) {
            if run.out_of_time() {
                return Ok(());
            }
            let listed = self.list(approval_code, slice, run).await?;
            let fresh: Vec<InstanceRef> = listed
                .into_iter()
                .filter(|code| seen.insert(code.clone()))
                .map(|instance_code| InstanceRef {
                    tenant_key: tenant.to_owned(),
                    approval_code: approval_code.to_owned(),
                    instance_code,
                })
                .collect();
            run.report.seen += fresh.len();
            self.sync_unknown(fresh, run).await?;
            // A --since run looks at an older window on request: the checkpoint stays.
            if !run.options.dry_run && run.options.since.is_none() {
                self.ledger
                    .advance_checkpoint(approval_code, slice.1, run.now)
                    .await?;
            }
        }
        run.report.windows[window].complete = true;
        Ok(())
    }

    /// Every page of one window.
    async fn list(
        &self,
        approval_code: &str,
        window: (i64, i64),
        run: &mut Run,
    ) -> Result<Vec<String>, ReconcileError> {
        let feishu = self.feishu(run);
        let mut codes = Vec::new();
        let mut token: Option<String> = None;
        loop {
            run.report.feishu_calls += 1;
            let page = feishu
                .list_instances(approval_code, window, token.as_deref())
                .await?;
            codes.extend(page.instance_code_list);
            match page.page_token {
                Some(next) if page.has_more && !next.is_empty() => token = Some(next),
                _ => return Ok(codes),
            }
        }
    }

    /// Reads the instances the ledger has no item for and queues those to sync.
    async fn sync_unknown(
        &self,
        instances: Vec<InstanceRef>,
        run: &mut Run,
    ) -> Result<(), ReconcileError> {
        let known = self.ledger.states(&instances).await?;
        let unknown: Vec<InstanceRef> = instances
            .into_iter()
            .filter(|i| !known.contains_key(&i.instance_code))
            .collect();
        let details = self.read(unknown, run).await?;
        for (instance, detail) in details {
            let finding = plan::classify_new(&detail, run.now_ms(), self.config.settle);
            self.act_on(&instance, finding, run).await?;
        }
        Ok(())
    }

    /// The detail of each instance, a few at a time. One Feishu no longer knows (1390003,
    /// "instance code not found") is reported, not fatal.
    pub(super) async fn read(
        &self,
        instances: Vec<InstanceRef>,
        run: &mut Run,
    ) -> Result<Vec<(InstanceRef, Instance)>, ReconcileError> {
        run.report.feishu_calls += instances.len();
        let feishu = self.feishu(run);
        let feishu = &feishu;
        let results: Vec<_> = stream::iter(instances)
            .map(|instance| async move {
                let detail = feishu.get_instance(&instance.instance_code).await;
                (instance, detail)
            })
            .buffer_unordered(READ_CONCURRENCY)
            .collect()
            .await;
        let mut out = Vec::with_capacity(results.len());
        for (instance, detail) in results {
            match detail {
                Ok(d) => out.push((instance, d)),
                Err(e) if e.code() == Some(INSTANCE_NOT_FOUND) => {
                    run.report.attention.push(super::report::Attention {
                        instance_code: instance.instance_code.clone(),
                        what: format!("Feishu no longer finds this instance ({e})"),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// Queues, reports or records what a finding asks for.
    pub(super) async fn act_on(
        &self,
        instance: &InstanceRef,
        finding: Finding,
        run: &mut Run,
    ) -> Result<(), ReconcileError> {
        match finding {
            Finding::Act { action, reason } => self.feed(instance, action, reason, run).await?,
            Finding::Attention(what) => run.report.attention.push(super::report::Attention {
                instance_code: instance.instance_code.clone(),
                what,
            }),
            Finding::StillApproved if !run.options.dry_run => {
                self.ledger.mark_rechecked(instance, run.now).await?;
            }
            Finding::StillApproved | Finding::Nothing => {}
        }
        Ok(())
    }
}

fn stamp(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ms.to_string())
}
