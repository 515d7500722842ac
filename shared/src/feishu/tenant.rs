//! The tenant the app's token acts for (doc "获取企业信息", `tenant-v2/query`): the
//! reconciler needs its `tenant_key` to find ledger items, which events name but the
//! approval list API does not.

use reqwest::Method;
use serde::Deserialize;

use super::client::{Call, FeishuClient};
use super::error::FeishuError;

impl FeishuClient {
    /// `data.tenant.tenant_key` ("企业标识"); scope `tenant:tenant:readonly`.
    pub async fn tenant_key(&self) -> Result<String, FeishuError> {
        #[derive(Deserialize)]
        struct Data {
            tenant: Tenant,
        }
        #[derive(Deserialize)]
        struct Tenant {
            tenant_key: String,
        }
        let call = Call::new(
            "tenant.query",
            Method::GET,
            "/open-apis/tenant/v2/tenant/query",
        );
        Ok(self.send::<Data>(&call).await?.tenant.tenant_key)
    }
}
